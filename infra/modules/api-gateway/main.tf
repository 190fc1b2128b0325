# The front door: API Gateway (Google's managed ESPv2) serving the Swagger 2.0 document, with an
# API key on every data route, a per-consumer-project quota, and its own service account as the
# only identity the backend accepts.

resource "google_service_account" "default" {
  project      = var.project_id
  account_id   = "${var.name}-gateway"
  display_name = "API Gateway ${var.name}: the identity it calls the backend as"
}

resource "google_api_gateway_api" "default" {
  provider     = google-beta
  project      = var.project_id
  api_id       = var.name
  display_name = var.name
  labels       = var.labels
}

# A config is immutable: a changed document makes a new one, created before the gateway moves to it.
resource "google_api_gateway_api_config" "default" {
  provider             = google-beta
  project              = var.project_id
  api                  = google_api_gateway_api.default.api_id
  api_config_id_prefix = "${var.name}-"
  labels               = var.labels
  openapi_documents {
    document {
      path     = "openapi.json"
      contents = base64encode(var.spec)
    }
  }
  gateway_config {
    backend_config {
      google_service_account = google_service_account.default.email
    }
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "default" {
  provider     = google-beta
  project      = var.project_id
  region       = var.region
  gateway_id   = "${var.name}-gw"
  display_name = var.name
  api_config   = google_api_gateway_api_config.default.id
  labels       = var.labels
}

# API keys only work for an API whose managed service is enabled in the project owning the key. The
# service exists once the API does, but it can be enabled only after a config has been rolled out
# to a gateway.
resource "google_project_service" "default" {
  project            = var.project_id
  service            = google_api_gateway_api.default.managed_service
  disable_on_destroy = false
  depends_on         = [google_api_gateway_api_config.default, google_api_gateway_gateway.default]
}

# Consumers enable the API in their own project and create keys there: the quota counts per
# consumer project, so each consumer has its own.
resource "google_endpoints_service_iam_binding" "consumers" {
  count        = length(var.consumers) > 0 ? 1 : 0
  service_name = google_api_gateway_api.default.managed_service
  role         = "roles/servicemanagement.serviceConsumer"
  members      = var.consumers
}

# Keys owned by this project (the post-deploy canary, internal callers), usable on this API only.
resource "google_apikeys_key" "default" {
  for_each     = var.api_keys
  project      = var.project_id
  name         = "${var.name}-${each.key}"
  display_name = coalesce(each.value.display_name, "${var.name} ${each.key}")
  restrictions {
    api_targets {
      service = google_api_gateway_api.default.managed_service
    }
  }
  depends_on = [google_project_service.default]
}
