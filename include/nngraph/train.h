/* nngraph/train.h: written by its area (placeholder). */
#ifndef NNGRAPH_TRAIN_H
#define NNGRAPH_TRAIN_H

#include "core.h"

#endif
