/* Shared by the graph-file writer, reader and the DOT writer: registered
 * op families and the checks a name must pass to be written. */
#ifndef NN_GRAPHIO_COMMON_H
#define NN_GRAPHIO_COMMON_H

#include "internal.h"
#include "strbuf.h"

#include <stdarg.h>

/* The registered family whose prefix starts `op_token`, or NULL. */
const nn_op_text_family *nn_graphio_family_for(const char *op_token);

/* 1 if s is valid UTF-8 without control characters (bytes < 0x20, 0x7f). */
int nn_text_clean(const char *s);
/* 1 if the name must be written in double quotes ('=' inside, or '#' or
 * '"' first). */
int nn_name_needs_quotes(const char *name);


/* Shortest text that reads back as the same float, as people write it
 * (nn_format_number): 0.1, 40, 3e-08. */
void nn_format_float(float v, char *buf, size_t len);

#endif
