// ChildProcess: runs a program (e.g. PARLEY_BINARY) with extra environment, output to a log file;
// stop() sends a signal and returns the exit code. The destructor kills it if still running.
//
//   ChildProcess p({PARLEY_BINARY, "db-api", "--port", "0"}, {{"PARLEY_SERVICE_TOKEN", "t"}}, log);
//   int code = p.stop(SIGTERM);
//
// in_child (optional) runs in the child between fork and exec: only async-signal-safe calls
// (setrlimit, signal, setuid...), e.g. a file-size limit for a full-disk test.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace parley::test {

class ChildProcess {
 public:
  // env: variables to set (value) or remove (nullopt) on top of this process's environment.
  ChildProcess(const std::vector<std::string>& args, const std::map<std::string, std::optional<std::string>>& env,
               std::string log_path, const std::function<void()>& in_child = {})
      : log_path_(std::move(log_path)) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      std::string key = kv.substr(0, kv.find('='));
      if (!env.count(key)) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env)
      if (v) env_strings.push_back(k + "=" + *v);
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (in_child) in_child();
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fd);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The exit code if it has exited (-signal when killed by one), nullopt while it runs.
  std::optional<int> poll() {
    if (pid_ <= 0) return code_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return code_;
  }
  // Waits for the exit up to timeout; nullopt if still running.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto c = poll()) return c;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return poll();
  }
  std::optional<int> stop(int signo = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (pid_ > 0) ::kill(pid_, signo);
    return wait(timeout);
  }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> code_;
};

}  // namespace parley::test
