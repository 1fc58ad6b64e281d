/* The op table: every op nngraph knows by name (graph files, the CLI,
 * gradient audits). Adding an op: write ops/NAME.c and list it here. */
#include "ops.h"

#include <string.h>

extern const nn_op_def nn_op_matmul, nn_op_add, nn_op_sub, nn_op_mul, nn_op_scale, nn_op_relu, nn_op_relu_grad,
    nn_op_sigmoid, nn_op_sigmoid_grad, nn_op_tanh, nn_op_tanh_grad, nn_op_identity, nn_op_step, nn_op_softmax,
    nn_op_softmax_grad, nn_op_log_softmax, nn_op_log_softmax_grad, nn_op_softmax_cross_entropy,
    nn_op_softmax_cross_entropy_grad, nn_op_bce_with_logits, nn_op_bce_with_logits_grad, nn_op_mse, nn_op_mse_grad,
    nn_op_sum, nn_op_mean, nn_op_expand, nn_op_sum_like, nn_op_conv2d, nn_op_conv2d_grad_input,
    nn_op_conv2d_grad_weight, nn_op_conv2d_grad_bias, nn_op_max_pool2d, nn_op_max_pool2d_grad, nn_op_avg_pool2d,
    nn_op_avg_pool2d_grad, nn_op_global_avg_pool, nn_op_global_avg_pool_grad, nn_op_reshape, nn_op_transpose,
    nn_op_concat, nn_op_slice, nn_op_slice_grad, nn_op_dropout, nn_op_dropout_grad, nn_op_batch_norm,
    nn_op_batch_norm_grad, nn_op_layer_norm, nn_op_layer_norm_grad, nn_op_leaky_relu, nn_op_leaky_relu_grad,
    nn_op_elu, nn_op_elu_grad, nn_op_gelu, nn_op_gelu_grad, nn_op_softplus, nn_op_softplus_grad, nn_op_huber,
    nn_op_huber_grad;

static const nn_op_def *const ops[] = {
    &nn_op_matmul, &nn_op_add, &nn_op_sub, &nn_op_mul, &nn_op_scale,
    &nn_op_relu, &nn_op_relu_grad, &nn_op_sigmoid, &nn_op_sigmoid_grad, &nn_op_tanh, &nn_op_tanh_grad,
    &nn_op_identity, &nn_op_step,
    &nn_op_softmax, &nn_op_softmax_grad, &nn_op_log_softmax, &nn_op_log_softmax_grad,
    &nn_op_softmax_cross_entropy, &nn_op_softmax_cross_entropy_grad, &nn_op_bce_with_logits,
    &nn_op_bce_with_logits_grad, &nn_op_mse, &nn_op_mse_grad,
    &nn_op_sum, &nn_op_mean, &nn_op_expand, &nn_op_sum_like,
    &nn_op_conv2d, &nn_op_conv2d_grad_input, &nn_op_conv2d_grad_weight, &nn_op_conv2d_grad_bias,
    &nn_op_max_pool2d, &nn_op_max_pool2d_grad, &nn_op_avg_pool2d, &nn_op_avg_pool2d_grad,
    &nn_op_global_avg_pool, &nn_op_global_avg_pool_grad,
    &nn_op_reshape, &nn_op_transpose, &nn_op_concat, &nn_op_slice, &nn_op_slice_grad,
    &nn_op_dropout, &nn_op_dropout_grad, &nn_op_batch_norm, &nn_op_batch_norm_grad,
    &nn_op_layer_norm, &nn_op_layer_norm_grad,
    &nn_op_leaky_relu, &nn_op_leaky_relu_grad, &nn_op_elu, &nn_op_elu_grad, &nn_op_gelu, &nn_op_gelu_grad,
    &nn_op_softplus, &nn_op_softplus_grad, &nn_op_huber, &nn_op_huber_grad,
};

int nn_op_count(void) { return (int)(sizeof ops / sizeof *ops); }

const nn_op_def *nn_op_at(int i) { return i >= 0 && i < nn_op_count() ? ops[i] : NULL; }

const nn_op_def *nn_op_find(const char *name) {
    for (int i = 0; name && i < nn_op_count(); i++)
        if (strcmp(ops[i]->name, name) == 0) return ops[i];
    return NULL;
}
