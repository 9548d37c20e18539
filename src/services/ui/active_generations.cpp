#include "services/ui/active_generations.hpp"

#include "llm/generator.hpp"

namespace parley::services::ui {

ActiveGeneration::~ActiveGeneration() { registry_.release(owner_, chat_id_); }

void ActiveGeneration::attach(llm::TextStream* stream) {
  std::lock_guard lock(mutex_);
  stream_ = stream;
  if (stopped_.load() && stream_) stream_->cancel();
}

void ActiveGeneration::detach() {
  std::lock_guard lock(mutex_);
  stream_ = nullptr;
}

void ActiveGeneration::stop() {
  std::lock_guard lock(mutex_);
  stopped_.store(true);
  if (stream_) stream_->cancel();
}

Result<std::shared_ptr<ActiveGeneration>> ActiveGenerations::try_start(const std::string& owner,
                                                                       const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  std::string key = owner + "\n" + chat_id;
  if (auto it = by_chat_.find(key); it != by_chat_.end() && !it->second.expired())
    return make_error(ErrorCode::conflict, "A reply is already being written in this chat. Wait for it or stop it.");
  if (static_cast<int>(by_chat_.size()) >= total_limit_)
    return make_error(ErrorCode::unavailable,
                      "This server is writing as many replies as it can right now. Please try again in a few seconds.");
  int& count = per_owner_[owner];
  if (count >= per_session_limit_) {
    if (count == 0) per_owner_.erase(owner);
    return make_error(ErrorCode::rate_limited, "Too many replies are being written at once. Wait for one to finish.");
  }
  ++count;
  auto generation = std::make_shared<ActiveGeneration>(*this, owner, chat_id);
  by_chat_[key] = generation;
  return generation;
}

bool ActiveGenerations::stop(const std::string& owner, const std::string& chat_id) {
  std::shared_ptr<ActiveGeneration> generation;
  {
    std::lock_guard lock(mutex_);
    auto it = by_chat_.find(owner + "\n" + chat_id);
    if (it == by_chat_.end()) return false;
    generation = it->second.lock();
  }
  if (!generation) return false;
  generation->stop();
  return true;
}

bool ActiveGenerations::running(const std::string& owner, const std::string& chat_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_chat_.find(owner + "\n" + chat_id);
  return it != by_chat_.end() && !it->second.expired();
}

size_t ActiveGenerations::size() const {
  std::lock_guard lock(mutex_);
  return by_chat_.size();
}

void ActiveGenerations::release(const std::string& owner, const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  by_chat_.erase(owner + "\n" + chat_id);
  if (auto it = per_owner_.find(owner); it != per_owner_.end() && --it->second <= 0) per_owner_.erase(it);
}

}  // namespace parley::services::ui
