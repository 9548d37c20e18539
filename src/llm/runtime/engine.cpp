#include "llm/runtime/engine.hpp"

#include <algorithm>
#include <cassert>
#include <list>

#include "core/thread_pool.hpp"
#include "llm/model/forward.hpp"
#include "llm/runtime/kv_cache.hpp"
#include "llm/runtime/prefix_cache.hpp"

namespace parley::llm {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::none: return "none";
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::error: return "error";
  }
  return "none";
}

// ---- Sequence ---------------------------------------------------------------------------------

FinishReason Sequence::poll(std::vector<int32_t>& out) {
  std::lock_guard lock(mu_);
  out.insert(out.end(), pending_.begin(), pending_.end());
  pending_.clear();
  return finish_;
}

void Sequence::set_notify(std::function<void()> fn) {
  bool pending;
  {
    std::lock_guard lock(mu_);
    notify_ = std::move(fn);
    pending = !pending_.empty() || finish_ != FinishReason::none;
  }
  if (pending) notify();
}

void Sequence::cancel() { cancel_.store(true); }

bool Sequence::finished() const {
  std::lock_guard lock(mu_);
  return finish_ != FinishReason::none;
}

void Sequence::push(int32_t token) {
  std::lock_guard lock(mu_);
  pending_.push_back(token);
}

void Sequence::finish(FinishReason r, std::string error) {
  std::lock_guard lock(mu_);
  if (finish_ == FinishReason::none) {
    finish_ = r;
    error_ = std::move(error);
  }
}

void Sequence::notify() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mu_);
    fn = notify_;
  }
  if (fn) fn();
}

// ---- Engine -----------------------------------------------------------------------------------

namespace {

struct Active {
  std::shared_ptr<Sequence> seq;
  GenerationRequest req;
  std::vector<int32_t> tokens;  // prompt, then generated tokens; the last one may await evaluation
  std::vector<int32_t> generated;
  int64_t n_past = 0;           // tokens whose K/V are in the cache
  SeqBlocks blocks;
};

}  // namespace

struct Engine::Impl {
  Impl(std::shared_ptr<const Model> m, const EngineOptions& o)
      : model(std::move(m)), opt(o), pool(o.threads), fwd(model, pool),
        kv(model->hparams(), o.kv_tokens), cache(kv) {}

  std::shared_ptr<const Model> model;
  EngineOptions opt;
  ThreadPool pool;
  Forward fwd;
  KvCache kv;
  PrefixCache cache;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Active>> waiting;  // guarded by mu
  bool stopping = false;                        // guarded by mu
  std::vector<std::unique_ptr<Active>> running; // scheduler thread only, in admission order
  std::thread thread;

  std::atomic<int64_t> n_running{0}, n_waiting{0}, kv_used{0};
  std::atomic<int64_t> prompt_total{0}, generated_total{0}, hit_total{0}, preempt_total{0}, steps{0};

  void loop();
  void admit(std::unique_ptr<Active> a);
  void release(Active& a, bool keep_in_cache);
  bool grow(Active& a, int64_t n_tokens);
  void preempt(size_t index);
  void step();
};

Engine::Engine(std::shared_ptr<const Model> model, EngineOptions options) : model_(std::move(model)), options_(options) {
  if (options_.ctx <= 0) options_.ctx = 4096;
  options_.ctx = std::min<int64_t>(options_.ctx, 1 << 20);
  if (options_.slots <= 0) options_.slots = 1;
  if (options_.queue < 0) options_.queue = 0;
  if (options_.kv_tokens <= 0) options_.kv_tokens = options_.ctx * options_.slots;
  options_.kv_tokens = std::max(options_.kv_tokens, options_.ctx);  // one sequence always fits
  if (options_.step_tokens < options_.slots + 1) options_.step_tokens = options_.slots + 1;
  impl_ = std::make_unique<Impl>(model_, options_);
  impl_->thread = std::thread([this] { impl_->loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

Result<std::shared_ptr<Sequence>> Engine::submit(GenerationRequest request) {
  const HParams& hp = model_->hparams();
  if (request.prompt.empty()) return make_error(ErrorCode::invalid_argument, "the prompt is empty");
  for (int32_t t : request.prompt)
    if (t < 0 || t >= hp.n_vocab) return make_error(ErrorCode::invalid_argument, "the prompt holds an unknown token id");
  if (request.max_tokens < 1) return make_error(ErrorCode::invalid_argument, "max_tokens must be at least 1");
  const int64_t need = static_cast<int64_t>(request.prompt.size()) + request.max_tokens;
  if (need > options_.ctx)
    return make_error(ErrorCode::invalid_argument,
                      "this model's context is " + std::to_string(options_.ctx) + " tokens; the request needs " +
                          std::to_string(request.prompt.size()) + " prompt tokens + " +
                          std::to_string(request.max_tokens) + " to generate = " + std::to_string(need));
  auto a = std::make_unique<Active>();
  a->seq = std::make_shared<Sequence>();
  a->seq->prompt_tokens_ = static_cast<int64_t>(request.prompt.size());
  a->tokens = request.prompt;
  a->req = std::move(request);
  auto seq = a->seq;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return make_error(ErrorCode::unavailable, "the engine is shutting down");
    // Requests beyond the free slots wait; beyond the queue they are refused.
    const int64_t free_slots = options_.slots - impl_->n_running.load();
    if (static_cast<int64_t>(impl_->waiting.size()) >= options_.queue + std::max<int64_t>(free_slots, 0))
      return make_error(ErrorCode::unavailable, "the model is busy: all slots and the waiting queue are full");
    impl_->waiting.push_back(std::move(a));
    impl_->n_waiting.store(static_cast<int64_t>(impl_->waiting.size()));
  }
  impl_->cv.notify_all();
  return seq;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.running = impl_->n_running.load();
  s.waiting = impl_->n_waiting.load();
  s.kv_blocks_used = impl_->kv_used.load();
  s.kv_blocks_total = impl_->kv.n_blocks();
  s.prompt_tokens_total = impl_->prompt_total.load();
  s.generated_tokens_total = impl_->generated_total.load();
  s.prefix_hit_tokens_total = impl_->hit_total.load();
  s.preemptions_total = impl_->preempt_total.load();
  s.steps_total = impl_->steps.load();
  return s;
}

// Starts a sequence: reuses the longest cached prefix of its tokens.
void Engine::Impl::admit(std::unique_ptr<Active> a) {
  if (opt.prefix_cache) {
    // At least the last token is evaluated again: its logits pick the next token.
    const int64_t reused = cache.attach(a->tokens, static_cast<int64_t>(a->tokens.size()) - 1, a->blocks);
    a->n_past = reused;
    a->seq->cached_tokens_.store(reused);
    hit_total.fetch_add(reused);
  }
  running.push_back(std::move(a));
}

void Engine::Impl::release(Active& a, bool keep_in_cache) {
  if (keep_in_cache && opt.prefix_cache && a.n_past > 0) {
    cache.insert(std::vector<int32_t>(a.tokens.begin(), a.tokens.begin() + a.n_past), a.blocks);
  } else {
    for (int32_t b : a.blocks.blocks) kv.release(b);
  }
  a.blocks = {};
  a.n_past = 0;
}

// Makes sure `a` owns blocks for positions [0, n_tokens); false when the pool is exhausted even
// after evicting every idle cached prefix.
bool Engine::Impl::grow(Active& a, int64_t n_tokens) {
  while (static_cast<int64_t>(a.blocks.blocks.size()) < kv.blocks_for(n_tokens)) {
    int32_t b = kv.allocate();
    while (b < 0 && cache.evict_one()) b = kv.allocate();
    if (b < 0) return false;
    a.blocks.blocks.push_back(b);
  }
  return true;
}

// Frees running[index]'s blocks and puts it back at the head of the waiting queue; it resumes by
// recomputing its tokens (prompt and what it generated so far).
void Engine::Impl::preempt(size_t index) {
  std::unique_ptr<Active> a = std::move(running[index]);
  running.erase(running.begin() + static_cast<std::ptrdiff_t>(index));
  release(*a, /*keep_in_cache=*/true);
  preempt_total.fetch_add(1);
  std::lock_guard lock(mu);
  waiting.push_front(std::move(a));
  n_waiting.store(static_cast<int64_t>(waiting.size()));
}

void Engine::Impl::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !waiting.empty() || !running.empty(); });
      if (stopping) break;
      while (static_cast<int>(running.size()) < opt.slots && !waiting.empty()) {
        auto a = std::move(waiting.front());
        waiting.pop_front();
        lock.unlock();
        if (a->seq->cancel_.load()) {
          a->seq->finish(FinishReason::cancelled);
          a->seq->notify();
        } else {
          admit(std::move(a));
        }
        lock.lock();
      }
      n_waiting.store(static_cast<int64_t>(waiting.size()));
    }
    n_running.store(static_cast<int64_t>(running.size()));
    try {
      step();
    } catch (const std::exception& e) {
      // A failure inside the forward pass ends every running sequence with an error; the engine
      // itself keeps serving.
      for (auto& a : running) {
        release(*a, /*keep_in_cache=*/false);
        a->seq->finish(FinishReason::error, e.what());
        a->seq->notify();
      }
      running.clear();
    }
    n_running.store(static_cast<int64_t>(running.size()));
    kv_used.store(kv.used_blocks());
  }
  // Shutdown: everything still running or waiting ends as cancelled.
  std::deque<std::unique_ptr<Active>> rest;
  {
    std::lock_guard lock(mu);
    rest.swap(waiting);
  }
  for (auto& a : running) rest.push_back(std::move(a));
  running.clear();
  for (auto& a : rest) {
    if (a->blocks.blocks.size()) release(*a, false);
    a->seq->finish(FinishReason::cancelled);
    a->seq->notify();
  }
}

void Engine::Impl::step() {
  // 1. Cancelled sequences leave now and free their blocks (the computed prefix stays cached).
  for (size_t i = 0; i < running.size();) {
    if (running[i]->seq->cancel_.load()) {
      release(*running[i], /*keep_in_cache=*/true);
      running[i]->seq->finish(FinishReason::cancelled);
      running[i]->seq->notify();
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  if (running.empty()) return;

  // 2. Plan the batch: decoding sequences (one pending token) first, oldest first; then prompt
  //    chunks within the step budget. Blocks are allocated as planned; when the pool is full the
  //    youngest unplanned sequence is preempted (or the one being planned, if it is the youngest).
  struct Plan {
    Active* a;
    int64_t n;  // tokens to evaluate this step
  };
  std::vector<Plan> plan;
  int64_t budget = opt.step_tokens;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < running.size() && budget > 0; ++i) {
      Active* a = running[i].get();
      const int64_t remaining = static_cast<int64_t>(a->tokens.size()) - a->n_past;
      if ((pass == 0) != (remaining == 1)) continue;
      const int64_t n = std::min(remaining, budget);
      bool ok = grow(*a, a->n_past + n);
      while (!ok) {
        // Youngest sequence not already in the plan.
        size_t victim = running.size();
        for (size_t j = running.size(); j-- > 0;) {
          bool planned = std::any_of(plan.begin(), plan.end(), [&](const Plan& p) { return p.a == running[j].get(); });
          if (!planned) {
            victim = j;
            break;
          }
        }
        if (victim == running.size()) break;  // cannot happen: `a` itself is unplanned
        const bool self = running[victim].get() == a;
        preempt(victim);
        if (self) break;
        if (victim < i) --i;
        ok = grow(*a, a->n_past + n);
      }
      if (!ok) {
        --i;  // `a` was preempted: running[i] is now the next sequence
        continue;
      }
      plan.push_back({a, n});
      budget -= n;
    }
  }
  if (plan.empty()) return;

  // 3. One forward pass for the whole batch.
  std::vector<BatchToken> batch;
  std::vector<const SeqBlocks*> seqs;
  std::vector<Active*> wants_logits;
  for (size_t s = 0; s < plan.size(); ++s) {
    Active* a = plan[s].a;
    seqs.push_back(&a->blocks);
    for (int64_t i = 0; i < plan[s].n; ++i) {
      const int64_t pos = a->n_past + i;
      const bool last = pos + 1 == static_cast<int64_t>(a->tokens.size());
      batch.push_back({a->tokens[pos], static_cast<int32_t>(pos), static_cast<int32_t>(s), last});
      if (last) wants_logits.push_back(a);
    }
  }
  const int64_t V = model->hparams().n_vocab;
  std::vector<float> logits(wants_logits.size() * V);
  fwd.eval(batch, seqs, kv, logits.data());
  steps.fetch_add(1);
  for (const Plan& p : plan) {
    if (p.a->n_past < p.a->seq->prompt_tokens_) prompt_total.fetch_add(std::min(p.n, p.a->seq->prompt_tokens_ - p.a->n_past));
    p.a->n_past += p.n;
  }

  // 4. Sample, hand out, finish.
  for (size_t i = 0; i < wants_logits.size(); ++i) {
    Active* a = wants_logits[i];
    std::span<float> row(logits.data() + i * V, V);
    int32_t tok;
    if (a->req.sampler) {
      tok = a->req.sampler(row, a->generated);
    } else {
      tok = static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
    }
    a->generated.push_back(tok);
    a->tokens.push_back(tok);
    generated_total.fetch_add(1);
    const bool stop = std::find(a->req.stop_tokens.begin(), a->req.stop_tokens.end(), tok) != a->req.stop_tokens.end();
    if (!stop) a->seq->push(tok);
    if (stop) {
      a->seq->finish(FinishReason::stop);
    } else if (static_cast<int64_t>(a->generated.size()) >= a->req.max_tokens) {
      a->seq->finish(FinishReason::length);
    }
    a->seq->notify();
  }
  for (size_t i = 0; i < running.size();) {
    if (running[i]->seq->finished()) {
      release(*running[i], /*keep_in_cache=*/true);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

}  // namespace parley::llm
