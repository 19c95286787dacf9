#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "core/philox.h"

namespace tttlm::autograd {

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs_in, const GradcheckOptions& opt) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < inputs_in.size(); ++i) {
    const Tensor& t = inputs_in[i];
    if (!t.defined()) {
      inputs.push_back(t);
      continue;
    }
    TTT_CHECK(t.device().is_cpu() && (t.dtype() == Dtype::f64 || !t.requires_grad()), "[gradcheck] input ", i,
              " must be an f64 CPU tensor, got ", t.describe());
    Tensor c;
    {
      NoGradGuard ng;
      c = ops::clone(t);
    }
    c.set_requires_grad(t.requires_grad());
    inputs.push_back(c);
  }
  Tensor y = fn(inputs);
  TTT_CHECK(y.dtype() == Dtype::f64, "[gradcheck] fn must return f64, got ", y.describe());
  std::vector<double> r(y.numel());
  for (int64_t i = 0; i < y.numel(); ++i) r[i] = philox::normal(opt.seed, 7, i);
  Tensor R = Tensor::from_vector(r, y.shape());
  auto loss_of = [&](const Tensor& out) { return ops::sum(ops::mul(out, R)); };
  backward(loss_of(y));

  GradcheckResult res;
  std::ostringstream msg;
  int reported = 0;
  NoGradGuard ng;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor g = x.grad();
    std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    double* p = x.data<double>();
    for (int64_t k = 0; k < x.numel(); ++k) {
      double orig = p[k];
      p[k] = orig + opt.eps;
      double lp = loss_of(fn(inputs)).item();
      p[k] = orig - opt.eps;
      double lm = loss_of(fn(inputs)).item();
      p[k] = orig;
      double numeric = (lp - lm) / (2 * opt.eps);
      double err = std::abs(analytic[k] - numeric);
      res.max_abs_err = std::max(res.max_abs_err, err);
      ++res.checked;
      if (!(err <= opt.atol + opt.rtol * std::abs(numeric))) {
        res.ok = false;
        if (reported++ < opt.max_report)
          msg << "input " << i << " " << x.describe() << " element " << k << ": analytic " << analytic[k]
              << ", numeric " << numeric << " (|diff| " << err << ")\n";
      }
    }
  }
  res.message = msg.str();
  return res;
}

}  // namespace tttlm::autograd
