# No provider: the module only reads and shapes files, so `npm test` can evaluate it offline.
terraform {
  required_version = ">= 1.11.0"
}
