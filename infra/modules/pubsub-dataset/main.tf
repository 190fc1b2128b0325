# One dataset's bus, named and tuned as src/pubsub/topology.ts creates it in the emulator: topic
# `<name>`, dead-letter topic `<name>-dead-letter`, push subscription `<name>-ingest`, and a pull
# subscription `<name>-dead-letter-sub` that keeps dead letters until someone looks at them.

locals {
  retention = "${var.retention_days * 86400}s"
}

resource "google_pubsub_schema" "default" {
  project    = var.project_id
  name       = var.name
  type       = "AVRO"
  definition = var.avro_schema
}

resource "google_pubsub_topic" "default" {
  project = var.project_id
  name    = var.name
  labels  = var.labels
  schema_settings {
    schema   = google_pubsub_schema.default.id
    encoding = "JSON"
  }
  # Messages at rest stay in these regions (data residency); none listed lets Pub/Sub choose.
  dynamic "message_storage_policy" {
    for_each = length(var.storage_regions) > 0 ? [1] : []
    content {
      allowed_persistence_regions = var.storage_regions
    }
  }
}

resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name}-dead-letter"
  labels                     = var.labels
  message_retention_duration = local.retention
  dynamic "message_storage_policy" {
    for_each = length(var.storage_regions) > 0 ? [1] : []
    content {
      allowed_persistence_regions = var.storage_regions
    }
  }
}

resource "google_pubsub_subscription" "default" {
  project = var.project_id
  name    = "${var.name}-ingest"
  topic   = google_pubsub_topic.default.id
  labels  = var.labels
  # Ingest acknowledges after its micro-batch is durably written, which can take seconds.
  ack_deadline_seconds = var.ack_deadline_seconds
  # Acknowledged messages are kept too, so `gcloud pubsub subscriptions seek --time` replays a window.
  message_retention_duration = local.retention
  retain_acked_messages      = true
  # The default deletes a subscription after 31 days without deliveries.
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = "${var.minimum_backoff_seconds}s"
    maximum_backoff = "${var.maximum_backoff_seconds}s"
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
  push_config {
    # The functions framework takes the topic from a `/projects/<p>/topics/<t>` path: the topic's own
    # id. The container's ingest endpoint takes the dataset from the query instead.
    push_endpoint = var.push.query == null ? "${var.push.url}/${google_pubsub_topic.default.id}" : "${var.push.url}/?${var.push.query}"
    oidc_token {
      service_account_email = var.push.service_account_email
      audience              = var.push.audience
    }
  }
  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}

resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name}-dead-letter-sub"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = var.labels
  message_retention_duration = local.retention
  retain_acked_messages      = true
  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent moves failed messages to the dead-letter topic: it must be able to publish
# there and to acknowledge them on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = var.service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.default.name
  role         = "roles/pubsub.subscriber"
  member       = var.service_agent
}
