/* nngraph summary: the Keras-like table of a graph file's layers (its
 * scopes), output shapes and parameter counts. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph summary FILE.nng\n\n"
    "Prints a Keras-like table: one row per layer (scope) with its kind,\n"
    "activation, output shape and parameter count, then the totals.\n";

/* Keras's model.summary() layout: layer (type), output shape, params. */
static void print_table(const nn_graph *g) {
    int n = nn_graph_layers(g, NULL, 0);
    nn_layer_info *layers = calloc((size_t)n + 1, sizeof *layers);
    if (!layers) return;
    nn_graph_layers(g, layers, n);
    char rule[80];
    memset(rule, '_', 65);
    rule[65] = 0;
    printf("%s\n %-30s %-20s %10s\n", rule, "Layer (type)", "Output Shape", "Param #");
    memset(rule, '=', 65);
    printf("%s\n", rule);
    for (int i = 0; i < n; i++) {
        const nn_layer_info *l = &layers[i];
        char type[200], shape[96], count[32];
        if (strcmp(l->kind, "dense") == 0)
            snprintf(type, sizeof type, "%s (dense, %s)", l->name, l->activation);
        else
            snprintf(type, sizeof type, "%s (%s)", l->name, l->ops);
        /* Keras writes the open batch dimension as None */
        int k = snprintf(shape, sizeof shape, "(");
        for (int d = 0; d < l->out_shape.rank; d++) {
            if (l->out_shape.dim[d] == NN_BATCH)
                k += snprintf(shape + k, sizeof shape - (size_t)k, "%sNone", d ? ", " : "");
            else
                k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", d ? ", " : "", (long long)l->out_shape.dim[d]);
        }
        snprintf(shape + k, sizeof shape - (size_t)k, "%s)", l->out_shape.rank == 1 ? "," : "");
        printf(" %-30s %-20s %10s\n", type, shape, nn_format_count(l->params, count, sizeof count));
    }
    printf("%s\n", rule);
    char total[32], inside[32];
    int64_t all = nn_graph_param_count(g), in_layers = 0;
    for (int i = 0; i < n; i++) in_layers += layers[i].params;
    printf("Total params: %s\n", nn_format_count(all, total, sizeof total));
    printf("Trainable params: %s\n", total);
    printf("Non-trainable params: 0\n");
    if (in_layers != all)
        printf("(%s of them outside any layer scope)\n", nn_format_count(all - in_layers, inside, sizeof inside));
    memset(rule, '_', 65);
    printf("%s\n", rule);
    free(layers);
}

static int run(int argc, char **argv) {
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("summary", "unknown option '%s'", argv[i]);
        if (file) return cli_usage_error("summary", "one graph file at a time ('%s' and '%s')", file, argv[i]);
        file = argv[i];
    }
    if (!file) return cli_usage_error("summary", "no graph file given");
    nn_graph *g = cli_load_graph("summary", file, 1);
    if (!g) return CLI_RUNTIME;
    const char *slash = strrchr(file, '/');
    printf("Model: \"%s\"\n", slash ? slash + 1 : file);
    print_table(g);
    nn_graph_free(g);
    return fflush(stdout) == 0 ? CLI_OK : cli_fail("summary", "writing to stdout failed");
}

const cli_command cli_summary = {"summary", "the Keras-like table of layers, shapes and parameter counts", usage, run};
