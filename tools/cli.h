/* Shared by the `nngraph` subcommands: option parsing, exit codes and
 * loading graph files with messages on stderr. Data goes to stdout,
 * messages to stderr. */
#ifndef NNGRAPH_CLI_H
#define NNGRAPH_CLI_H

#include "nngraph.h"

/* Exit codes of every subcommand. */
enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

/* A subcommand: its name, one-line summary, usage text and entry point
 * (argv[0] is the subcommand's name). */
typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_dot, cli_summary, cli_check, cli_train, cli_predict, cli_plot, cli_tag, cli_ui;

/* Prints "nngraph CMD: message" and the hint to use --help; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "nngraph CMD: message" on stderr; returns CLI_RUNTIME. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The message of the last cli_fail (without "nngraph CMD: "), "" if none:
 * what an MPI rank that failed tells the others (cli_dist.c). */
const char *cli_last_failure(void);

/* An argument that matched none of the command's options: the graph file.
 * Sets *file and returns 0; prints a usage error and returns CLI_USAGE for
 * an unknown option (a lone "-" is a file) or a second graph file. */
int cli_graph_file_arg(const char *cmd, const char *arg, const char **file);

/* Takes the options of every subcommand out of argv (so the subcommand
 * never sees them): loads the op libraries the user names (NNGRAPH_OPS,
 * then each --ops LIB / --ops=LIB), sets the memory limit
 * (NNGRAPH_MAX_MEMORY, then --max-memory SIZE), and registers the ffi op
 * family: show_unresolved 1 for commands
 * that only show a graph (ops of libraries not loaded become unresolved
 * placeholders), 0 for those that run it. CLI_OK, or the exit code after
 * printing the reason. */
int cli_load_ops(const char *cmd, int *argc, char **argv, int show_unresolved);

/* Before writing `out` (NULL or "-": nothing to check): refuses, with the
 * reason on stderr, an output that is one of the command's inputs (the
 * same path or the same file) or an existing SQLite database (a run log a
 * weights file would replace). CLI_OK, or CLI_RUNTIME. */
int cli_safe_output(const char *cmd, const char *out, const char *const *inputs, int n_inputs);

/* 1 if argv[i] is "-h" or "--help" anywhere: the caller prints usage. */
int cli_wants_help(int argc, char **argv);

/* Option scanning: at argv[*i], matches `name` as "--name VALUE" or
 * "--name=VALUE" (or a short "-T VALUE" when name is "-T"). Returns 1 and
 * sets *value (advancing *i past a separate value), 0 if argv[*i] is not
 * this option, -1 if the value is missing (after a usage error). */
int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value);
/* Parses a whole decimal integer in [min,max] for option `name`; prints a
 * usage error and returns -1 if it is not one. */
int cli_int(const char *cmd, const char *name, const char *s, long long min, long long max, long long *out);
/* The same for a finite double in [min,max]. */
int cli_double(const char *cmd, const char *name, const char *s, double min, double max, double *out);

/* Loads a graph from `spec`: a graph file, or DB:RUN, the graph text a
 * run log recorded for a run (RUN an id, uuid prefix or name), when no
 * file of that name exists. Prints the error (FILE:LINE:COL: reason) on
 * failure; NULL then. */
nn_graph *cli_load_graph(const char *cmd, const char *spec, uint64_t seed);
/* The same, keeping a graph whose node line failed (nn_graph_load_partial):
 * NULL only when nothing could be read (error printed). */
nn_graph *cli_load_graph_partial(const char *cmd, const char *spec, uint64_t seed, nn_load_fault *fault);

/* The loss node: `name` if given (an error if no such node or not a
 * scalar), else the last scalar op of the forward graph that no forward
 * node reads. NULL after printing the reason. */
nn_node *cli_find_loss(const char *cmd, nn_graph *g, const char *name);
/* The prediction output: `name` if given, else the loss's first input
 * (the logits of softmax_cross_entropy, bce_with_logits, mse), else the
 * last forward op that is not a scalar. NULL after printing the reason. */
nn_node *cli_find_output(const char *cmd, nn_graph *g, const char *name);
/* An input node by name; NULL after printing the reason. */
nn_node *cli_find_input(const char *cmd, nn_graph *g, const char *name, const char *role);

#endif
