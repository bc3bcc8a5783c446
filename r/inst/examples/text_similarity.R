# The text-similarity network of the Keras documentation for layer_attention(), in R with
# kattn: a CNN encoder over token embeddings, query-value attention, pooling and a small
# classifier, trained on generated pairs and saved as a .keras file Keras loads.
#
#   Rscript text_similarity.R [OUTPUT.keras] [EPOCHS]
#
# Pairs: four topics own eight token ids each (1-32), ids 33-39 are noise. A query (5 tokens)
# and a value (7 tokens) each draw three in four tokens from one topic and the rest from the
# noise; the pair is similar (label 1) when their topics are the same, half the time.
library(kattn)

args <- commandArgs(trailingOnly = TRUE)
output <- if (length(args) >= 1) args[[1]] else "text_similarity.keras"
epochs <- if (length(args) >= 2) as.integer(args[[2]]) else 10L

vocabulary <- 40L
make_pairs <- function(n) {
  sequence <- function(length, topic) {
    from_topic <- runif(length) < 0.75
    ifelse(from_topic, 1L + topic * 8L + sample(0:7, length, replace = TRUE),
           sample(33:39, length, replace = TRUE))
  }
  query_topic <- sample(0:3, n, replace = TRUE)
  same <- runif(n) < 0.5
  value_topic <- ifelse(same, query_topic, (query_topic + sample(1:3, n, replace = TRUE)) %% 4L)
  list(query = t(vapply(query_topic, function(topic) sequence(5L, topic), integer(5))),
       value = t(vapply(value_topic, function(topic) sequence(7L, topic), integer(7))),
       labels = matrix(as.numeric(same), ncol = 1))
}
set_random_seed(1)  # the same data, initial weights and batches on every run
train <- make_pairs(2000)
held_out <- make_pairs(500)

# As the documentation writes it (with smaller sizes: 40 tokens, 8-dimensional embeddings,
# 6 filters).
query_input <- layer_input(shape = c(NA), dtype = "int32", name = "query_tokens")
value_input <- layer_input(shape = c(NA), dtype = "int32", name = "value_tokens")
token_embedding <- layer_embedding(input_dim = vocabulary, output_dim = 8)
query_embeddings <- token_embedding(query_input)
value_embeddings <- token_embedding(value_input)
cnn_layer <- layer_conv_1d(filters = 6, kernel_size = 4, padding = "same")
query_seq_encoding <- cnn_layer(query_embeddings)
value_seq_encoding <- cnn_layer(value_embeddings)
query_value_attention_seq <- layer_attention()(list(query_seq_encoding, value_seq_encoding))
query_encoding <- query_seq_encoding %>% layer_global_average_pooling_1d()
query_value_attention <- query_value_attention_seq %>% layer_global_average_pooling_1d()
input_layer <- layer_concatenate(list(query_encoding, query_value_attention))
similarity <- input_layer %>%
  layer_dense(8, activation = "relu") %>%
  layer_dense(1, activation = "sigmoid", name = "similarity")
model <- keras_model(list(query_input, value_input), similarity, name = "text_similarity")
summary(model)

compile(model, optimizer = optimizer_adam(learning_rate = 0.01), loss = "binary_crossentropy",
        metrics = "accuracy")
history <- fit(model, list(train$query, train$value), train$labels, batch_size = 32,
               epochs = epochs, validation_data = list(list(held_out$query, held_out$value),
                                                       held_out$labels))
losses <- history$metrics$loss
cat(sprintf("training loss: %.4f in the first epoch, %.4f in the last\n", losses[1],
            losses[length(losses)]))
scores <- evaluate(model, list(held_out$query, held_out$value), held_out$labels)
cat(sprintf("held-out pairs: loss %.4f, accuracy %.4f (chance: 0.5)\n", scores[["loss"]],
            scores[["accuracy"]]))

save_model(model, output, overwrite = TRUE)
reloaded <- load_model(output)
same_predictions <- identical(predict(model, list(held_out$query, held_out$value)),
                              predict(reloaded, list(held_out$query, held_out$value)))
cat(sprintf("saved %s; the reloaded model's predictions are %s\n", output,
            if (same_predictions) "identical" else "DIFFERENT"))
if (!(losses[length(losses)] < losses[1]) || !same_predictions) quit(status = 1)
