/* Core: tensors, initialisers, graphs, errors, autodiff and running. */
#include "nngraph.h"
#include "gradcheck.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

Test(tensor, aligned_and_zeroed) {
    nn_tensor *t = nn_tensor_new(NN_F32, NN_SHAPE(3, 5));
    cr_assert_not_null(t);
    cr_assert_eq(((uintptr_t)nn_tensor_data(t)) % 64, 0);
    cr_assert_eq(nn_tensor_size(t), 15);
    for (int i = 0; i < 15; i++) cr_assert_eq(nn_tensor_f32(t)[i], 0.f);
    cr_assert_null(nn_tensor_i32(t));
    nn_tensor_free(t);
    cr_assert_null(nn_tensor_new(NN_F32, NN_SHAPE(NN_BATCH, 3)));
    cr_assert_null(nn_tensor_new(NN_F32, NN_SHAPE(-5)));
}

Test(rng, same_seed_same_numbers) {
    nn_rng a, b;
    nn_rng_seed(&a, 42);
    nn_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) cr_assert_eq(nn_rng_u64(&a), nn_rng_u64(&b));
    nn_rng_seed(&b, 43);
    cr_assert_neq(nn_rng_u64(&a), nn_rng_u64(&b));
}

Test(init, statistics) {
    nn_rng r;
    nn_rng_seed(&r, 7);
    nn_tensor *w = nn_tensor_new(NN_F32, NN_SHAPE(400, 25));
    cr_assert_eq(nn_tensor_init(w, nn_init_glorot_uniform(), &r), NN_OK);
    double limit = sqrt(6.0 / 425.0), sum = 0, sq = 0;
    float *x = nn_tensor_f32(w);
    for (int i = 0; i < 10000; i++) {
        cr_assert(fabs(x[i]) <= limit);
        sum += x[i];
        sq += x[i] * x[i];
    }
    /* uniform(-l, l) has variance l^2/3 */
    cr_assert(fabs(sum / 10000) < 0.01);
    cr_assert(fabs(sq / 10000 - limit * limit / 3) < 0.1 * limit * limit / 3);
    cr_assert_eq(nn_tensor_init(w, nn_init_he_normal(), &r), NN_OK);
    sq = 0;
    for (int i = 0; i < 10000; i++) sq += x[i] * x[i];
    cr_assert(fabs(sq / 10000 - 2.0 / 400) < 0.1 * 2.0 / 400, "he_normal variance %g", sq / 10000);
    cr_assert_eq(nn_tensor_init(w, nn_init_normal(3.f, 0.5f), &r), NN_OK);
    sum = 0;
    for (int i = 0; i < 10000; i++) sum += x[i];
    cr_assert(fabs(sum / 10000 - 3.0) < 0.02);
    nn_tensor_init(w, nn_init_ones(), &r);
    cr_assert_eq(x[17], 1.f);
    nn_tensor_free(w);
}

Test(graph, shape_error_is_sticky_and_named) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(32, 400));
    nn_node *w = nn_param(g, "W", NN_SHAPE(25, 15), nn_init_zeros());
    nn_node *y = nn_matmul(g, x, w);
    cr_assert_null(y);
    cr_assert_eq(nn_graph_status(g), NN_ERR_SHAPE);
    const char *msg = nn_error_message(g);
    cr_assert(strstr(msg, "matmul") && strstr(msg, "[32,400]") && strstr(msg, "[25,15]") && strstr(msg, "'W'"),
              "message: %s", msg);
    /* later calls propagate NULL and keep the first message */
    nn_node *z = nn_relu(g, y);
    cr_assert_null(z);
    cr_assert_null(nn_softmax_cross_entropy(g, z, NULL));
    cr_assert_str_eq(nn_error_message(g), msg);
    cr_assert_eq(nn_run(g, &w, 1), NN_ERR_SHAPE);
    nn_graph_free(g);
}

Test(graph, shape_error_carries_a_structured_fault) {
    nn_graph *g = nn_graph_new(1);
    cr_assert_null(nn_graph_fault(g));
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    nn_scope_push(g, "L1");
    nn_node *w = nn_param(g, "W", NN_SHAPE(25, 15), nn_init_zeros());
    cr_assert_null(nn_matmul(g, x, w));
    nn_scope_pop(g);
    const nn_fault *f = nn_graph_fault(g);
    cr_assert(f, "%s", nn_error_message(g));
    cr_assert_str_eq(f->op, "matmul");
    cr_assert_str_eq(f->node, "L1/matmul");
    cr_assert_eq(f->n_inputs, 2);
    cr_assert_str_eq(f->inputs[0], "x");
    cr_assert_str_eq(f->inputs[1], "L1/W");
    cr_assert(nn_shape_equal(f->input_shapes[0], NN_SHAPE(NN_BATCH, 400)));
    cr_assert(nn_shape_equal(f->input_shapes[1], NN_SHAPE(25, 15)));
    cr_assert_eq(f->input_dtypes[1], NN_F32);
    /* a later refusal leaves the first fault */
    cr_assert_null(nn_relu(g, x));
    cr_assert_str_eq(nn_graph_fault(g)->op, "matmul");
    nn_graph_free(g);
    /* an error that is no op's refusal has none */
    g = nn_graph_new(1);
    cr_assert_null(nn_relu(g, NULL));
    cr_assert_null(nn_graph_fault(g));
    nn_graph_free(g);
}

Test(graph, misuse_is_reported) {
    nn_graph *g = nn_graph_new(1);
    cr_assert_null(nn_relu(g, NULL));
    cr_assert(strstr(nn_error_message(g), "relu") != NULL);
    nn_graph_free(g);

    nn_graph *g1 = nn_graph_new(1), *g2 = nn_graph_new(1);
    nn_node *a = nn_input(g1, "a", NN_F32, NN_SHAPE(2));
    nn_node *b = nn_input(g2, "b", NN_F32, NN_SHAPE(2));
    cr_assert_null(nn_add(g2, b, a));
    cr_assert(strstr(nn_error_message(g2), "another graph") != NULL);
    nn_graph_free(g1);
    nn_graph_free(g2);

    g = nn_graph_new(1);
    nn_node *labels = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH));
    nn_node *logits = nn_input(g, "z", NN_F32, NN_SHAPE(NN_BATCH, 3));
    cr_assert_null(nn_softmax_cross_entropy(g, logits, labels));
    cr_assert(strstr(nn_error_message(g), "i32") != NULL, "%s", nn_error_message(g));
    nn_graph_free(g);
}

Test(graph, scopes_and_unique_names) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_scope_push(g, "L1");
    nn_node *a = nn_relu(g, x);
    nn_node *b = nn_relu(g, a);
    nn_scope_pop(g);
    cr_assert_str_eq(nn_node_name(a), "L1/relu");
    cr_assert_str_eq(nn_node_name(b), "L1/relu_2");
    cr_assert_eq(nn_graph_find(g, "L1/relu_2"), b);
    cr_assert_eq(nn_node_shape(b).dim[0], NN_BATCH);
    nn_graph_free(g);
}

Test(run, open_batch_and_binding_errors) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *w = nn_param(g, "W", NN_SHAPE(2, 3), nn_init_ones());
    nn_node *y = nn_matmul(g, x, w);
    cr_assert_eq(nn_run(g, &y, 1), NN_ERR_STATE); /* not bound */
    cr_assert(strstr(nn_error_message(g), "'x'") != NULL);
    float xs[] = {1, 2, 3, 4, 5, 6};
    nn_tensor *t3 = nn_tensor_from(NN_F32, NN_SHAPE(3, 2), xs);
    nn_tensor *bad = nn_tensor_from(NN_F32, NN_SHAPE(3, 3), NULL);
    cr_assert_eq(nn_set_input(g, x, bad), NN_ERR_SHAPE);
    cr_assert_eq(nn_set_input(g, x, t3), NN_OK);
    cr_assert_eq(nn_run(g, &y, 1), NN_OK);
    const nn_tensor *v = nn_value(y);
    cr_assert_eq(nn_tensor_shape(v).dim[0], 3);
    cr_assert_float_eq(nn_tensor_f32(v)[8], 11.f, 1e-6);
    /* a new batch size gets its own plan */
    nn_tensor *t1 = nn_tensor_from(NN_F32, NN_SHAPE(1, 2), xs);
    nn_set_input(g, x, t1);
    cr_assert_eq(nn_run(g, &y, 1), NN_OK);
    cr_assert_eq(nn_tensor_shape(nn_value(y)).dim[0], 1);
    cr_assert_float_eq(nn_tensor_f32(nn_value(y))[0], 3.f, 1e-6);
    nn_tensor_free(t3);
    nn_tensor_free(t1);
    nn_tensor_free(bad);
    nn_graph_free(g);
}

Test(autodiff, shared_param_gradient_is_the_sum) {
    /* loss = sum(w * a) + sum(w * b): d/dw = a + b */
    nn_graph *g = nn_graph_new(1);
    float av[] = {1, 2, 3}, bv[] = {10, 20, 30};
    nn_tensor *ta = nn_tensor_from(NN_F32, NN_SHAPE(3), av), *tb = nn_tensor_from(NN_F32, NN_SHAPE(3), bv);
    nn_node *w = nn_param(g, "w", NN_SHAPE(3), nn_init_ones());
    nn_node *a = nn_const(g, "a", ta), *b = nn_const(g, "b", tb);
    nn_node *loss = nn_add(g, nn_sum(g, nn_mul(g, w, a), NN_ALL_AXES), nn_sum(g, nn_mul(g, w, b), NN_ALL_AXES));
    nn_node *dw;
    cr_assert_eq(nn_grad(g, loss, &w, 1, &dw), NN_OK, "%s", nn_error_message(g));
    cr_assert(nn_node_is_grad(dw));
    cr_assert_eq(nn_run(g, &dw, 1), NN_OK);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(nn_tensor_f32(nn_value(dw))[i], av[i] + bv[i], 1e-5);
    nn_tensor_free(ta);
    nn_tensor_free(tb);
    nn_graph_free(g);
}

Test(autodiff, unused_param_gets_zero_and_loss_must_be_scalar) {
    nn_graph *g = nn_graph_new(1);
    nn_node *w = nn_param(g, "w", NN_SHAPE(2), nn_init_ones());
    nn_node *u = nn_param(g, "unused", NN_SHAPE(2), nn_init_ones());
    nn_node *loss = nn_sum(g, w, NN_ALL_AXES);
    nn_node *wrt[2] = {w, u}, *gr[2];
    cr_assert_eq(nn_grad(g, loss, wrt, 2, gr), NN_OK);
    cr_assert_eq(nn_run(g, gr, 2), NN_OK);
    cr_assert_eq(nn_tensor_f32(nn_value(gr[0]))[1], 1.f);
    cr_assert_eq(nn_tensor_f32(nn_value(gr[1]))[1], 0.f);
    cr_assert_neq(nn_grad(g, w, &w, 1, gr), NN_OK);
    cr_assert(strstr(nn_error_message(g), "scalar") != NULL);
    nn_graph_free(g);
}

/* Two-layer network, plain gradient descent on a generated set: the loss
 * must fall by a factor of 5 within 300 steps. */
Test(end_to_end, two_layer_gradient_descent) {
    enum { N = 64 };
    nn_graph *g = nn_graph_new(3);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *W1 = nn_param(g, "W1", NN_SHAPE(2, 8), nn_init_glorot_uniform());
    nn_node *b1 = nn_param(g, "b1", NN_SHAPE(8), nn_init_zeros());
    nn_node *W2 = nn_param(g, "W2", NN_SHAPE(8, 2), nn_init_glorot_uniform());
    nn_node *b2 = nn_param(g, "b2", NN_SHAPE(2), nn_init_zeros());
    nn_node *h = nn_relu(g, nn_add(g, nn_matmul(g, x, W1), b1));
    nn_node *loss = nn_softmax_cross_entropy(g, nn_add(g, nn_matmul(g, h, W2), b2), y);
    nn_node *params[4] = {W1, b1, W2, b2}, *grads[4];
    cr_assert_eq(nn_grad(g, loss, params, 4, grads), NN_OK, "%s", nn_error_message(g));
    /* XOR-like quadrants: not linearly separable */
    nn_tensor *tx = nn_tensor_new(NN_F32, NN_SHAPE(N, 2)), *ty = nn_tensor_new(NN_I32, NN_SHAPE(N));
    nn_rng r;
    nn_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        float a = (float)(2 * nn_rng_uniform(&r) - 1), b = (float)(2 * nn_rng_uniform(&r) - 1);
        nn_tensor_f32(tx)[2 * i] = a;
        nn_tensor_f32(tx)[2 * i + 1] = b;
        nn_tensor_i32(ty)[i] = (a > 0) == (b > 0);
    }
    nn_set_input(g, x, tx);
    nn_set_input(g, y, ty);
    nn_node *outs[5] = {loss, grads[0], grads[1], grads[2], grads[3]};
    float first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        cr_assert_eq(nn_run(g, outs, 5), NN_OK, "%s", nn_error_message(g));
        last = nn_value_scalar(loss);
        if (step == 0) first = last;
        for (int p = 0; p < 4; p++) {
            float *w = nn_tensor_f32(nn_param_value(params[p]));
            const float *d = nn_tensor_f32(nn_value(grads[p]));
            for (int64_t i = 0; i < nn_tensor_size(nn_param_value(params[p])); i++) w[i] -= 0.5f * d[i];
        }
    }
    cr_assert(last < first / 5, "loss %g -> %g", first, last);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    nn_graph_free(g);
}
