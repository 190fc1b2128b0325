output "datasets" {
  description = "Dataset => avro_schema, gateway_paths (JSON text), tables and views in the bigquery-dataset module's shape."
  value = {
    for d, f in local.files : d => {
      avro_schema   = f.avro
      gateway_paths = f.paths
      tables = {
        for t in f.tables : t.table_id => {
          clustering      = tolist(try(t.clustering, []))
          description     = try(t.description, null)
          partition_field = t.time_partitioning.field
          partition_type  = t.time_partitioning.type
          schema          = jsonencode(t.schema)
        }
      }
      views = {
        for v in fileexists(f.view_file) ? [jsondecode(file(f.view_file))] : [] : v.table_id => {
          description = try(v.description, null)
          query       = v.query
        }
      }
    }
  }
}
