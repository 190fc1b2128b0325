# No provider: the module only computes the document, so `npm test` can evaluate it offline.
terraform {
  required_version = ">= 1.11.0"
}
