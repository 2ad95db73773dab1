/// What the operator should do about an error from below: one place that reads libxl's refusals
/// (`libxl(_:…)`, in LibxlErrorAdvice.swift beside this file, since every capability that calls libxl uses
/// it) and the kernel's answers on VF counts (`sriovCount(_:…)`, in VFs/) into XVFError codes, each matched
/// to the causes seen on real hosts, the rest passed on in the lower layer's words.
enum ErrorAdvice {}
