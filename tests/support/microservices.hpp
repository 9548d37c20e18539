// Microservices: the three-process topology as real `parley` processes, for fault tests:
//   parley db-api (SQLite in a temp dir)  <-  parley ui  ->  parley lm-api (stories260K.gguf)
//
//   Microservices ms;                 // starts all three, waits until the UI's /readyz is 200
//   UiBrowser b(ms.http, ms.ui->base_url()); b.open();
//   ms.dbapi_get_chat(b.owner(Microservices::kSessionKey), chat_id)   // the chat as db-api has it
//   ms.lmapi->process().stop(SIGKILL);
//
// Cost: lm-api loads a 1.2 MB model (~0.1 s); start-up of the three is about a second.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "support/service_process.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {

inline std::string stories_model() { return std::string(PARLEY_SHARED_DIR) + "/models/stories260K.gguf"; }

class Microservices {
 public:
  static constexpr const char* kToken = "fault-test-service-token-0123456789abcdef";
  static constexpr const char* kSessionKey = "fault-test-session-key-0123456789abcdef";

  // ui_args: extra flags of `parley ui` (e.g. --max-tokens); lm_args: of `parley lm-api`.
  explicit Microservices(std::vector<std::string> ui_args = {}, std::vector<std::string> lm_args = {},
                         Env extra_env = {}) {
    Env env = extra_env;
    env["PARLEY_SERVICE_TOKEN"] = kToken;
    env["SESSION_KEY"] = kSessionKey;
    env["SESSION_KEYS"] = std::nullopt;
    env["DB_API_URL"] = std::nullopt;
    env["LM_API_URL"] = std::nullopt;
    dbapi = std::make_unique<ServiceProcess>(
        "db-api", std::vector<std::string>{"--database", "sqlite:" + dir.file("chats.db"), "--threads", "2"},
        env, dir);
    std::vector<std::string> lm = {"--model", stories_model(), "--threads", "1"};
    lm.insert(lm.end(), lm_args.begin(), lm_args.end());
    lmapi = std::make_unique<ServiceProcess>("lm-api", lm, env, dir);
    dbapi->wait_ready(http);
    lmapi->wait_ready(http);
    std::vector<std::string> ui_flags = {"--db-api",        dbapi->base_url(), "--lm-api",
                                         lmapi->base_url(), "--threads",       "2"};
    ui_flags.insert(ui_flags.end(), ui_args.begin(), ui_args.end());
    ui = std::make_unique<ServiceProcess>("ui", ui_flags, env, dir);
    ui->wait_ready(http);
  }

  // GET /v1/chats/{id} on db-api as `owner`: the parsed chat with "messages".
  boost::json::object dbapi_get_chat(const std::string& owner, const std::string& chat_id) {
    auto r = http.get(dbapi->url("/v1/chats/" + chat_id),
                      {{"Authorization", std::string("Bearer ") + kToken}, {"X-Parley-Owner", owner}});
    if (r.status != 200)
      throw std::runtime_error("db-api GET chat: " + std::to_string(r.status) + " " + r.body);
    return boost::json::parse(r.body).as_object();
  }

  TempDir dir{"parley-faults"};
  TestHttp http;
  std::unique_ptr<ServiceProcess> dbapi, lmapi, ui;
};

}  // namespace parley::test
