/*
 * nngraph: a graph-based reverse-mode autodiff framework in C.
 *
 * The public API, by area:
 *   nngraph/core.h   tensors, random numbers, graphs, ops, autodiff, running
 */
#ifndef NNGRAPH_H
#define NNGRAPH_H

#include "nngraph/core.h"

#endif
