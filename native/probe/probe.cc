// Host probes for the agent: CPUID (the CPU's own word on VMX/SVM and nested paging, which no
// sysctl gives before vmm.ko loads) and flock(2) for the agent's host lock.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/file.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID 1
#else
#define HAVE_CPUID 0
#endif

namespace {

Napi::Value ThrowErrno(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// cpuid(leaf, subleaf) -> {eax, ebx, ecx, edx}, or null where the CPU has no such leaf or no
// CPUID at all. Leaves above the highest one the CPU reports are refused rather than executed:
// Intel CPUs answer them with the data of the highest basic leaf, which would mislead a decoder.
Napi::Value Cpuid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || (info.Length() > 1 && !info[1].IsNumber())) {
    Napi::TypeError::New(env, "cpuid(leaf, subleaf?) takes numbers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#if HAVE_CPUID
  unsigned int leaf = info[0].As<Napi::Number>().Uint32Value();
  unsigned int sub = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 0;
  unsigned int max = __get_cpuid_max(leaf & 0x80000000u, nullptr);
  if (max == 0 || leaf > max) return env.Null();
  unsigned int a = 0, b = 0, c = 0, d = 0;
  __cpuid_count(leaf, sub, a, b, c, d);
  Napi::Object r = Napi::Object::New(env);
  r.Set("eax", Napi::Number::New(env, a));
  r.Set("ebx", Napi::Number::New(env, b));
  r.Set("ecx", Napi::Number::New(env, c));
  r.Set("edx", Napi::Number::New(env, d));
  return r;
#else
  return env.Null();
#endif
}

// flock(fd, mode, nonblocking) with mode "shared" | "exclusive" | "unlock". Returns true when the
// lock is held (or released), false when nonblocking and another holder has it.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    Napi::TypeError::New(env, "flock(fd, mode, nonblocking?) takes a number and a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string mode = info[1].As<Napi::String>().Utf8Value();
  bool nonblocking = info.Length() > 2 && info[2].ToBoolean().Value();
  int op;
  if (mode == "shared") op = LOCK_SH;
  else if (mode == "exclusive") op = LOCK_EX;
  else if (mode == "unlock") op = LOCK_UN;
  else {
    Napi::TypeError::New(env, "flock mode must be shared, exclusive or unlock").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (nonblocking) op |= LOCK_NB;
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "flock", errno);
}

// openpt(): a new pseudo-terminal pair (posix_openpt, grantpt, unlockpt, ptsname). Returns the
// master's fd (close-on-exec, the caller owns it) and the terminal's path. The sandbox uses it to
// stand in for an nmdm(4) pair: its bhyve holds the master, the B side is the terminal.
Napi::Value Openpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (fd < 0) return ThrowErrno(env, "posix_openpt", errno);
  if (grantpt(fd) != 0 || unlockpt(fd) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "grantpt", err);
  }
  const char* name = ptsname(fd);
  if (name == nullptr) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "ptsname", err);
  }
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", Napi::Number::New(env, fd));
  r.Set("path", Napi::String::New(env, name));
  return r;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openpt", Napi::Function::New(env, Openpt, "openpt"));
  exports.Set("cpuid", Napi::Function::New(env, Cpuid, "cpuid"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("cpuidAvailable", Napi::Boolean::New(env, HAVE_CPUID != 0));
  return exports;
}

}  // namespace

NODE_API_MODULE(bhyve_probe, Init)
