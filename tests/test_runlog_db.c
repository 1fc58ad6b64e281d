/* Run log: bad databases give clear errors, never a crash, never a
 * half-written run shown as finished. */
#include "nngraph.h"
#include "runlog_util.h"

#include <criterion/criterion.h>
