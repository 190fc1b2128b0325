output "document" {
  description = "The Swagger 2.0 document, JSON text."
  value       = jsonencode(local.document)
}
