/* nngraph/graphio.h: written by its area (placeholder). */
#ifndef NNGRAPH_GRAPHIO_H
#define NNGRAPH_GRAPHIO_H

#include "core.h"

#endif
