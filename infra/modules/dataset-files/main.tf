# Reads what `npm run derive` and `npm run infra:gateway` generate for each dataset and shapes it
# for the other modules. Files only, no provider: `npm test` evaluates it against the real files.
#
# infra/generated/<dataset>/
#   table.json, rejected-table.json   BigQuery tables (table_id, description, schema,
#                                     time_partitioning, clustering)
#   pubsub-schema.avsc                the topic's Avro schema
#   dedup-view.json (optional)        the deduplicated read form: {table_id, description, query};
#                                     the query names tables `${project}.${dataset}.<table>`
# infra/gateway/datasets/<dataset>.json   the dataset's Swagger 2.0 paths

locals {
  files = {
    for d in var.datasets : d => {
      avro      = file("${var.generated_dir}/${d}/pubsub-schema.avsc")
      paths     = file("${var.gateway_dir}/datasets/${d}.json")
      tables    = [for f in ["table.json", "rejected-table.json"] : jsondecode(file("${var.generated_dir}/${d}/${f}"))]
      view_file = "${var.generated_dir}/${d}/dedup-view.json"
    }
  }
}
