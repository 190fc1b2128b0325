variable "backend_url" {
  description = "HTTPS URL of the api service; every route is forwarded to it with the path appended."
  type        = string
  validation {
    condition     = startswith(var.backend_url, "https://")
    error_message = "backend_url must be an https URL."
  }
}

variable "base_document" {
  description = "The generated base Swagger 2.0 document (JSON text): security definitions, the backend block, the routes every system has."
  type        = string
}

variable "dataset_paths" {
  description = "The generated paths of each dataset the system serves (JSON text each)."
  type        = list(string)
  default     = []
}

variable "quota_requests_per_minute" {
  description = "Requests per minute each consumer project may make to the data routes."
  type        = number
  default     = 600
}

variable "title" {
  description = "Title of the API, shown to consumers."
  type        = string
}
