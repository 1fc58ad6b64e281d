/* nngraph/ffi.h: written by its area (placeholder). */
#ifndef NNGRAPH_FFI_H
#define NNGRAPH_FFI_H

#include "core.h"

#endif
