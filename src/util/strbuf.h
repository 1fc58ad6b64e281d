/* The growable string (public: nngraph/strbuf.h) and the library's
 * number formatting for text files. */
#ifndef NN_STRBUF_H
#define NN_STRBUF_H

#include "nngraph/strbuf.h"

#include <stddef.h>

/* The shortest text that reads back as v (as a float when as_float, else
 * a double), written the way people write numbers: 40, 0.001, 2.5e-08,
 * 1e+20 (positional unless the exponent is below -4 or past the digits a
 * float or double holds). For graph files, run-log parameters, the CLI. */
void nn_format_number(double v, int as_float, char *buf, size_t len);

#endif
