/* nngraph/data.h: written by its area (placeholder). */
#ifndef NNGRAPH_DATA_H
#define NNGRAPH_DATA_H

#include "core.h"

#endif
