#include "services/ui/generation_limit_options.hpp"

namespace parley::services::ui {

void add_generation_limit_options(CLI::App* cmd, UiOptions& options) {
  cmd->add_option("--max-generations-per-session", options.max_generations_per_session,
                  "Replies one browser session may have running at once (beyond: 429)")
      ->envname("PARLEY_MAX_GENERATIONS_PER_SESSION")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--generations-per-minute", options.generation_rate.per_minute,
                  "Replies one session may start per minute, sustained (0: no limit; beyond: 429 + Retry-After)")
      ->envname("PARLEY_GENERATIONS_PER_MINUTE")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--generation-burst", options.generation_rate.burst,
                  "Replies a session may start back to back before the per-minute rate applies")
      ->envname("PARLEY_GENERATION_BURST")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-streams", options.max_generations_total,
                  "Replies (streams) this replica generates at once, all sessions together (beyond: 503 + Retry-After)")
      ->envname("PARLEY_MAX_STREAMS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
}

}  // namespace parley::services::ui
