// The header is the whole shim: SwiftPM needs a source file to build a C target.
#include "csystem.h"
