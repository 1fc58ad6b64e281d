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

extern const cli_command cli_dot, cli_summary, cli_check, cli_train, cli_predict, cli_runs, cli_show, cli_export,
    cli_plot, cli_tag, cli_ui;

/* Prints "nngraph CMD: message" and the hint to use --help; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), nonnull(2)))
#endif
    ;
/* Prints "nngraph CMD: message" on stderr; returns CLI_RUNTIME. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), nonnull(2)))
#endif
    ;
/* The message of the last cli_fail (without "nngraph CMD: "), "" if none:
 * what an MPI rank that failed tells the others (cli_dist.c). */
const char *cli_last_failure(void);

/* ---- one option parser for every subcommand ---- */

/* An option of a subcommand: --NAME (and -S when short_name is set). A
 * value is given as "--name V", "--name=V", "-S V" or "-SV" (so -Tpng). */
typedef struct cli_option {
    const char *name;  /* "epochs" for --epochs ("": short only); NULL ends a table */
    char short_name;   /* 'o' for -o, or 0 */
    const char *value; /* the value's name in messages ("N"); NULL: a flag */
    int id;            /* what cli_next returns for it, > 0 */
} cli_option;

/* cli_next's results besides an option's id. */
enum { CLI_END = 0, CLI_OPERAND = -1, CLI_BAD = -2 };

/* The state of parsing one subcommand's arguments. */
typedef struct cli_args {
    const char *cmd;
    const cli_option *opts;
    int argc, i;
    char **argv;
    int operands_only; /* after "--" */
    const char *value; /* the option's value (NULL for a flag), or the operand */
    const char *arg;   /* the argument as typed, for messages */
} cli_args;

/* Starts parsing argv[1..argc) (argv[0] is the subcommand's name). */
void cli_args_init(cli_args *a, const char *cmd, const cli_option *opts, int argc, char **argv);
/* The next option (its id, value in a->value), operand (CLI_OPERAND, in
 * a->value; "-" and everything after "--" are operands), CLI_END, or
 * CLI_BAD after printing a one-line usage error: an unknown option (with
 * "did you mean" when one is close), a missing value, a value given to a
 * flag. */
int cli_next(cli_args *a);
/* For an option taking an optional second value (--data IMAGES [LABELS]):
 * the next argument if it is not an option (consumed), else NULL. */
const char *cli_next_value(cli_args *a);

/* The closest of the n words to `word` by edit distance, if close enough
 * to be a typo of it; NULL otherwise. For "did you mean". */
const char *cli_closest(const char *word, const char *const *words, int n);

/* Where a graph or a run comes from. Everywhere a run log run is named it
 * is DB:RUN, or --db DB --run RUN (RUN an id, uuid prefix or name; DB
 * defaults to nngraph.db where a command says so). */
typedef struct cli_source {
    const char *file; /* a graph file (or DB:RUN, split by cli_source_resolve) */
    const char *db, *run;
    char db_buf[2048]; /* the DB part of DB:RUN */
    char name[4200];   /* "DB:RUN", for titles and messages */
} cli_source;
/* The options of every command that reads a graph or a run: put
 * CLI_SOURCE_OPTIONS in its table and pass what cli_next returns to
 * cli_source_arg. */
enum { CLI_OPT_DB = 1000, CLI_OPT_RUN };
#define CLI_SOURCE_OPTIONS {"db", 0, "DB", CLI_OPT_DB}, {"run", 0, "RUN", CLI_OPT_RUN}
/* Takes --db, --run and operands into s: 1 if `opt` was one of them, 0 if
 * not (a usage error was printed when opt is CLI_BAD or the operand is a
 * second one: return CLI_USAGE). */
int cli_source_arg(const char *cmd, cli_source *s, int opt, const char *value);
/* Records an operand: a graph file, or DB:RUN. A second operand is an
 * error (with a hint when the two look like a DB and a run swapped or
 * given apart). Returns 0, or CLI_USAGE after the message. */
int cli_source_operand(const char *cmd, cli_source *s, const char *arg);
/* After parsing: checks that exactly one of FILE, DB:RUN and --db/--run
 * was given and fills in db/run from DB:RUN. A graph command (want_run 0)
 * takes a graph file or a run; a run command (want_run 1) takes only a
 * run, where a bare RUN operand is a run of --db or `default_db`. An
 * operand that names a run log gets a hint to write DB:RUN. Returns 0, or
 * CLI_USAGE after the message. */
int cli_source_resolve(const char *cmd, cli_source *s, const char *default_db, int want_run);
/* 1 if path is an existing SQLite database (a run log), by its header. */
int cli_is_database(const char *path);

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

/* Parses a whole decimal integer in [min,max] for option `name`; prints a
 * usage error and returns -1 if it is not one. */
int cli_int(const char *cmd, const char *name, const char *s, long long min, long long max, long long *out);
/* The same for a finite double in [min,max]. */
int cli_double(const char *cmd, const char *name, const char *s, double min, double max, double *out);

/* Loads the graph of a resolved source: its file, or the graph text the
 * run log DB recorded for RUN. Prints the error (FILE:LINE:COL: reason) on
 * failure; NULL then. */
nn_graph *cli_load_graph(const char *cmd, const cli_source *src, uint64_t seed);
/* The same, keeping a graph whose node line failed (nn_graph_load_partial):
 * NULL only when nothing could be read (error printed). */
nn_graph *cli_load_graph_partial(const char *cmd, const cli_source *src, uint64_t seed, nn_load_fault *fault);
/* The file a resolved source reads: the graph file, or the run log. */
const char *cli_source_path(const cli_source *src);
/* The name a source goes by in titles: the file's base name, or DB:RUN. */
const char *cli_source_name(const cli_source *src);

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
