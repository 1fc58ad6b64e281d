/*
 * nngraph: a graph-based reverse-mode autodiff framework in C.
 *
 * The public API, by area:
 *   nngraph/core.h    tensors, random numbers, graphs, ops, autodiff, running
 *   nngraph/data.h    datasets: IDX and CSV files, the labs' generators, scaling
 *   nngraph/train.h   dense layers, optimizers, the fit loop, predict, summary
 *   nngraph/runlog.h  the SQLite run log
 *   nngraph/graphio.h graph files (.nng) and DOT export
 *   nngraph/ffi.h     custom ops from shared libraries (libffi)
 *   nngraph/strbuf.h  a growable byte string (the buffer the writers use)
 */
#ifndef NNGRAPH_H
#define NNGRAPH_H

#include "nngraph/core.h"
#include "nngraph/data.h"
#include "nngraph/train.h"
#include "nngraph/runlog.h"
#include "nngraph/graphio.h"
#include "nngraph/ffi.h"
#include "nngraph/strbuf.h"

#endif
