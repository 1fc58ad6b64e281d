/* Layers: a dense layer is nothing but ordinary graph nodes made under a
 * scope, act(x W + b), so autodiff, the planner and the graph file see no
 * special layer type. The scope is what groups them back into a "layer"
 * for the summary and for DOT clusters. */
#include "internal.h"

#include <string.h>

static const char *activation_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};
#define N_ACTIVATIONS ((int)(sizeof activation_names / sizeof *activation_names))

const char *nn_activation_name(nn_activation a) {
    if ((unsigned)a >= (unsigned)N_ACTIVATIONS) return "unknown";
    return activation_names[a];
}

int nn_activation_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < N_ACTIVATIONS; i++)
        if (strcmp(name, activation_names[i]) == 0) return i;
    /* our op for Keras's "linear" is called identity: accept both */
    if (strcmp(name, "identity") == 0) return NN_LINEAR;
    return -1;
}

static nn_node *activate(nn_graph *g, nn_node *z, nn_activation act) {
    switch (act) {
    case NN_LINEAR: return z; /* no node: a linear layer ends at its add */
    case NN_RELU: return nn_relu(g, z);
    case NN_SIGMOID: return nn_sigmoid(g, z);
    case NN_TANH: return nn_tanh(g, z);
    case NN_SOFTMAX: return nn_softmax(g, z);
    }
    return NULL;
}

nn_node *nn_dense_init(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act, nn_init w_init,
                       nn_init b_init) {
    char sh[64];
    if (!g || g->status != NN_OK) return NULL;
    const char *who = scope ? scope : "?";
    if (!scope || !*scope) return nn_fail(g, NN_ERR_ARG, "dense: a layer needs a scope name (like \"L1\")");
    if (!x) return nn_fail(g, NN_ERR_ARG, "dense '%s': input is NULL", who);
    if (units <= 0) return nn_fail(g, NN_ERR_ARG, "dense '%s': units must be positive, got %d", who, units);
    if ((unsigned)act >= (unsigned)N_ACTIVATIONS)
        return nn_fail(g, NN_ERR_ARG, "dense '%s': unknown activation %d", who, (int)act);
    if (x->dtype != NN_F32 || x->shape.rank != 2 || x->shape.dim[1] <= 0)
        return nn_fail(g, NN_ERR_SHAPE, "dense '%s': input '%s' must be f32 [batch, features], it is %s%s", who,
                       x->name, nn_dtype_name(x->dtype), nn_shape_str(x->shape, sh, sizeof sh));
    if (nn_scope_push(g, scope) != NN_OK) return NULL;
    /* the scope must be new: a second "L1" would silently get "L1/W_2" */
    char wname[300];
    snprintf(wname, sizeof wname, "%s/W", g->scope);
    nn_node *out = NULL;
    if (nn_graph_find(g, wname)) {
        nn_fail(g, NN_ERR_ARG, "dense '%s': the scope is taken (%s exists)", who, wname);
    } else {
        nn_node *w = nn_param(g, "W", NN_SHAPE(x->shape.dim[1], units), w_init);
        nn_node *b = nn_param(g, "b", NN_SHAPE(units), b_init);
        nn_node *z = nn_add(g, nn_matmul(g, x, w), b);
        out = z ? activate(g, z, act) : NULL;
    }
    nn_scope_pop(g);
    return g->status == NN_OK ? out : NULL;
}

nn_node *nn_dense(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act) {
    return nn_dense_init(g, scope, x, units, act, nn_init_glorot_uniform(), nn_init_zeros());
}
