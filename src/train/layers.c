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

/* Opens a layer's scope after the checks every layer makes; returns 0, or
 * -1 with the graph's error set. The scope must be new: a second "L1"
 * would silently get "L1/W_2". */
static int layer_begin(nn_graph *g, const char *kind, const char *scope, nn_node *x) {
    if (!g || g->status != NN_OK) return -1;
    const char *who = scope ? scope : "?";
    if (!scope || !*scope) {
        nn_fail(g, NN_ERR_ARG, "%s: a layer needs a scope name (like \"L1\")", kind);
        return -1;
    }
    if (!x) {
        nn_fail(g, NN_ERR_ARG, "%s '%s': input is NULL", kind, who);
        return -1;
    }
    if (nn_scope_push(g, scope) != NN_OK) return -1;
    size_t len = strlen(g->scope);
    for (int i = 0; i < g->n_nodes; i++) {
        const char *name = g->nodes[i]->name;
        if (strncmp(name, g->scope, len) == 0 && name[len] == '/') {
            nn_fail(g, NN_ERR_ARG, "%s '%s': the scope is taken (%s exists)", kind, who, name);
            nn_scope_pop(g);
            return -1;
        }
    }
    return 0;
}

/* Closes the layer's scope; its output, or NULL after an error. */
static nn_node *layer_end(nn_graph *g, nn_node *out) {
    nn_scope_pop(g);
    return g->status == NN_OK ? out : NULL;
}

static int check_image(nn_graph *g, const char *kind, const char *scope, nn_node *x) {
    char sh[64];
    if (x->dtype == NN_F32 && x->shape.rank == 4) return 0;
    nn_fail(g, NN_ERR_SHAPE, "%s '%s': input '%s' must be f32 [batch, channels, height, width] (NCHW), it is %s%s", kind,
            scope, x->name, nn_dtype_name(x->dtype), nn_shape_str(x->shape, sh, sizeof sh));
    return -1;
}

nn_node *nn_dense_init(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act, nn_init w_init,
                       nn_init b_init) {
    char sh[64];
    if (layer_begin(g, "dense", scope, x) != 0) return NULL;
    nn_node *out = NULL;
    if (units <= 0) {
        nn_fail(g, NN_ERR_ARG, "dense '%s': units must be positive, got %d", scope, units);
    } else if ((unsigned)act >= (unsigned)N_ACTIVATIONS) {
        nn_fail(g, NN_ERR_ARG, "dense '%s': unknown activation %d", scope, (int)act);
    } else if (x->dtype != NN_F32 || x->shape.rank != 2 || x->shape.dim[1] <= 0) {
        nn_fail(g, NN_ERR_SHAPE, "dense '%s': input '%s' must be f32 [batch, features], it is %s%s", scope, x->name,
                nn_dtype_name(x->dtype), nn_shape_str(x->shape, sh, sizeof sh));
    } else {
        nn_node *w = nn_param(g, "W", NN_SHAPE(x->shape.dim[1], units), w_init);
        nn_node *b = nn_param(g, "b", NN_SHAPE(units), b_init);
        nn_node *z = nn_add(g, nn_matmul(g, x, w), b);
        out = z ? activate(g, z, act) : NULL;
    }
    return layer_end(g, out);
}

nn_node *nn_dense(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act) {
    return nn_dense_init(g, scope, x, units, act, nn_init_glorot_uniform(), nn_init_zeros());
}

nn_node *nn_conv2d_ex(nn_graph *g, const char *scope, nn_node *x, int filters, int kh, int kw, nn_activation act,
                      const nn_conv2d_opts *opts, nn_init w_init, nn_init b_init) {
    if (layer_begin(g, "conv2d", scope, x) != 0) return NULL;
    nn_node *out = NULL;
    int groups = opts && opts->groups > 0 ? opts->groups : 1;
    if (check_image(g, "conv2d", scope, x) != 0) {
        /* the message is set */
    } else if (filters <= 0 || kh <= 0 || kw <= 0) {
        nn_fail(g, NN_ERR_ARG, "conv2d '%s': filters (%d) and kernel size (%dx%d) must be positive", scope, filters, kh, kw);
    } else if ((unsigned)act >= (unsigned)N_ACTIVATIONS || act == NN_SOFTMAX) {
        nn_fail(g, NN_ERR_ARG, "conv2d '%s': activation %d is not one for images (linear, relu, sigmoid, tanh)", scope,
                (int)act);
    } else if (x->shape.dim[1] <= 0 || x->shape.dim[1] % groups) {
        nn_fail(g, NN_ERR_SHAPE, "conv2d '%s': %d groups do not divide the input's %lld channels", scope, groups,
                (long long)x->shape.dim[1]);
    } else {
        nn_node *w = nn_param(g, "W", NN_SHAPE(filters, x->shape.dim[1] / groups, kh, kw), w_init);
        nn_node *b = nn_param(g, "b", NN_SHAPE(filters), b_init);
        nn_node *z = nn_conv2d_op(g, x, w, b, opts);
        out = z ? activate(g, z, act) : NULL;
    }
    return layer_end(g, out);
}

nn_node *nn_conv2d(nn_graph *g, const char *scope, nn_node *x, int filters, int kernel_size, nn_activation act) {
    return nn_conv2d_ex(g, scope, x, filters, kernel_size, kernel_size, act, NULL, nn_init_glorot_uniform(),
                        nn_init_zeros());
}

nn_node *nn_max_pool2d(nn_graph *g, const char *scope, nn_node *x, int pool_size) {
    if (layer_begin(g, "max_pool2d", scope, x) != 0) return NULL;
    nn_node *out = NULL;
    if (check_image(g, "max_pool2d", scope, x) == 0) {
        nn_pool2d_opts o = {.pool_h = pool_size, .pool_w = pool_size};
        if (pool_size <= 0) nn_fail(g, NN_ERR_ARG, "max_pool2d '%s': pool size %d must be positive", scope, pool_size);
        else out = nn_max_pool2d_op(g, x, &o);
    }
    return layer_end(g, out);
}

nn_node *nn_flatten(nn_graph *g, const char *scope, nn_node *x) {
    if (layer_begin(g, "flatten", scope, x) != 0) return NULL;
    return layer_end(g, nn_flatten_op(g, x));
}

nn_node *nn_dropout(nn_graph *g, const char *scope, nn_node *x, float rate) {
    if (layer_begin(g, "dropout", scope, x) != 0) return NULL;
    return layer_end(g, nn_dropout_op(g, x, rate));
}

nn_node *nn_batch_norm(nn_graph *g, const char *scope, nn_node *x) {
    char sh[64];
    if (layer_begin(g, "batch_norm", scope, x) != 0) return NULL;
    nn_node *out = NULL;
    if (x->dtype != NN_F32 || (x->shape.rank != 2 && x->shape.rank != 4) || x->shape.dim[1] <= 0) {
        nn_fail(g, NN_ERR_SHAPE, "batch_norm '%s': input '%s' must be f32 [batch, features] or [batch, channels, h, w], it is %s%s",
                scope, x->name, nn_dtype_name(x->dtype), nn_shape_str(x->shape, sh, sizeof sh));
    } else {
        nn_shape c = NN_SHAPE(x->shape.dim[1]);
        nn_node *gamma = nn_param(g, "gamma", c, nn_init_ones());
        nn_node *beta = nn_param(g, "beta", c, nn_init_zeros());
        nn_node *mean = nn_param(g, "moving_mean", c, nn_init_zeros());
        nn_node *var = nn_param(g, "moving_variance", c, nn_init_ones());
        if (mean && var) {
            mean->frozen = 1;
            var->frozen = 1;
        }
        out = nn_batch_norm_op(g, x, gamma, beta, mean, var, 0.99f, 1e-3f);
    }
    return layer_end(g, out);
}
