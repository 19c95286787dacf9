#include "train/stop_signal.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

namespace tttlm::train {

namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free to be set in a handler");

extern "C" void on_stop_signal(int sig) {
  int none = 0;
  if (g_signal.compare_exchange_strong(none, sig)) return;
  if (sig == SIGINT) {  // a second Ctrl-C: stop now (write(2) and _exit are async-signal-safe)
    static const char msg[] = "\ntttlm train: second SIGINT; stopping now without a checkpoint\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(130);
  }
}

}  // namespace

// Two paths record a signal. The main one: the stop signals are blocked in the calling thread (and so in
// every thread started after it, which inherit its mask) and a dedicated thread takes them with sigwait,
// so that no signal ever interrupts the computing threads (a handler running on a thread inside a
// oneDNN kernel was seen to corrupt the heap). The fallback: a handler for threads started earlier, which
// do not block them.
void install_stop_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) {
    sigaction(sig, &sa, nullptr);  // every call: someone may have replaced the handler since
    sigaddset(&set, sig);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  static std::once_flag once;
  std::call_once(once, [set] {
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) == 0) on_stop_signal(sig);
      }
    }).detach();
  });
}

int stop_signal() { return g_signal.load(); }
void reset_stop_signal() { g_signal.store(0); }

const char* stop_signal_name(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGINT:
      return "SIGINT";
    default: {
      static thread_local char buf[32];
      std::snprintf(buf, sizeof buf, "signal %d", sig);
      return buf;
    }
  }
}

}  // namespace tttlm::train
