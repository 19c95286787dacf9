// Graceful stop of `tttlm train` on the signals clusters send before killing a job (SIGTERM; SIGUSR1 with
// Slurm's --signal) and on Ctrl-C. Receiving a signal only records it in an atomic flag; the training loop
// reads it once per step, agrees on it across ranks and, after finishing that step, writes a checkpoint and
// returns. A second SIGINT ends the process at once (exit status 130) without a checkpoint.
#pragma once

namespace tttlm::train {

// Takes over SIGTERM, SIGUSR1 and SIGINT for the whole process: blocks them in the calling thread (threads
// started later inherit that; call it before starting any) and starts, once, a thread that takes them with
// sigwait; every call also installs the flag-setting handler again, for threads that do not block them.
void install_stop_handlers();
// The first stop signal received since install_stop_handlers or reset_stop_signal (0: none).
int stop_signal();
void reset_stop_signal();
// "SIGTERM", "SIGUSR1", "SIGINT" (or "signal N").
const char* stop_signal_name(int sig);

}  // namespace tttlm::train
