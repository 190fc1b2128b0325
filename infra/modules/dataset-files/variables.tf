variable "datasets" {
  description = "Dataset names (schemas/<name>.json) to read."
  type        = list(string)
}

variable "gateway_dir" {
  description = "Directory of the generated Swagger parts (infra/gateway)."
  type        = string
}

variable "generated_dir" {
  description = "Directory of the files derived from schemas/ (infra/generated)."
  type        = string
}
