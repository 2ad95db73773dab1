/// What the operator should do about an error from below: one place for the advice xvf adds to libxl's
/// refusals (`libxl(_:…)`, in LibxlErrorAdvice.swift beside this file, since every capability that calls
/// libxl uses it) and to the kernel's answers on VF counts (`sriovCount(_:…)`, in VFs/), each matched to
/// the causes seen on real hosts, the rest passed on in the lower layer's words.
enum ErrorAdvice {}
