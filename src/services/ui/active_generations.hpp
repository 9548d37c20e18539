// ActiveGenerations: the replies being generated right now by this UI replica, so that Stop (a
// request of its own) reaches the stream, and so that one session cannot start more than its share.
//
//   auto slot = generations.try_start(owner, chat_id);   // Result: conflict / unavailable / rate_limited
//   slot->attach(stream.get());  ...  slot->detach();     // before the stream is destroyed
//   generations.stop(owner, chat_id);                     // from the Stop handler: cancels it
//   // the slot is released when the last shared_ptr to it goes away
//
// Thread-safe (one mutex; every operation is O(active generations of one chat)).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"

namespace parley::llm {
class TextStream;
}

namespace parley::services::ui {

class ActiveGenerations;

class ActiveGeneration {
 public:
  ActiveGeneration(ActiveGenerations& registry, std::string owner, std::string chat_id)
      : registry_(registry), owner_(std::move(owner)), chat_id_(std::move(chat_id)) {}
  ~ActiveGeneration();
  ActiveGeneration(const ActiveGeneration&) = delete;
  ActiveGeneration& operator=(const ActiveGeneration&) = delete;

  void attach(llm::TextStream* stream);
  void detach();
  // Cancels the attached stream (now or, if none yet, as soon as one is attached).
  void stop();
  bool stopped() const { return stopped_.load(); }

 private:
  ActiveGenerations& registry_;
  std::string owner_, chat_id_;
  std::mutex mutex_;
  llm::TextStream* stream_ = nullptr;
  std::atomic<bool> stopped_{false};
};

class ActiveGenerations {
 public:
  ActiveGenerations(int per_session_limit, int total_limit)
      : per_session_limit_(per_session_limit), total_limit_(total_limit) {}

  // conflict: this chat already has one; unavailable: the replica runs total_limit replies (its
  // global cap on concurrent streams); rate_limited: the session runs per_session_limit replies.
  Result<std::shared_ptr<ActiveGeneration>> try_start(const std::string& owner, const std::string& chat_id);
  // true when a generation of this owner's chat was running (it is now being cancelled).
  bool stop(const std::string& owner, const std::string& chat_id);
  bool running(const std::string& owner, const std::string& chat_id) const;
  size_t size() const;

 private:
  friend class ActiveGeneration;
  void release(const std::string& owner, const std::string& chat_id);

  int per_session_limit_, total_limit_;
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<ActiveGeneration>> by_chat_;  // key: owner + "\n" + chat id
  std::map<std::string, int> per_owner_;
};

}  // namespace parley::services::ui
