// db-api: HTTP around a ChatStore. No SQL here; every rule about input lives in the store's
// validation and the wire JSON parser; this file checks the caller, maps the wire onto the seam
// and results onto statuses.
//
// /v1 routes (all need "Authorization: Bearer <PARLEY_SERVICE_TOKEN>", else 401, and
// "X-Parley-Owner: <owner>", else 400):
//   POST   /v1/chats                        {title?, system_prompt?, settings?, messages?[]} -> 201 chat
//   GET    /v1/chats?limit=&cursor=         -> 200 {"chats":[...], "next_cursor"}  (newest first)
//   GET    /v1/chats/{id}                   -> 200 chat with "messages" (oldest first), ETag: "<version>";
//                                              If-None-Match: "<version>" -> 304 while unchanged
//   PATCH  /v1/chats/{id}                   {title?, system_prompt?, settings?} -> 200 chat
//   DELETE /v1/chats/{id}                   -> 204
//   POST   /v1/chats/{id}/messages          {role, content, status?, ..., client_key?}
//                                           -> 201 message (200 when client_key was already used)
//   PATCH  /v1/chats/{id}/messages/{mid}    {content?, status?, prompt_tokens?, ...} -> 200 message
// Another owner's chat answers 404 exactly as a missing one. JSON errors as in core/result.hpp.
//
// Rendered GET /v1/chats/{id} bodies are kept (bounded LRU, V1Options::cache_bytes) and served again
// only after the store confirmed the chat's version (one cheap query): never stale, even with several
// db-api replicas writing the same database.
#pragma once

#include <cstddef>
#include <string>

#include "net/router.hpp"
#include "store/chat_store.hpp"

namespace parley::services::dbapi {

struct V1Options {
  size_t cache_bytes = 32 << 20;  // rendered chats kept; 0: none
};

// Adds the /v1 routes; `store` must outlive the router. service_token must not be empty.
void add_v1_routes(net::Router& router, store::ChatStore& store, std::string service_token,
                   V1Options options = {});

// The original app's API (--compat-routes), see compat_routes.cpp. No token: it trusts the network.
void add_compat_routes(net::Router& router, store::ChatStore& store);

}  // namespace parley::services::dbapi
