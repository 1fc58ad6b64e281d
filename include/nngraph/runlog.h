/* nngraph/runlog.h: written by its area (placeholder). */
#ifndef NNGRAPH_RUNLOG_H
#define NNGRAPH_RUNLOG_H

#include "core.h"

#endif
