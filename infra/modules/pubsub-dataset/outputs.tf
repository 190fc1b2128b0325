output "dead_letter_subscription_id" {
  description = "Pull subscription holding the dead letters."
  value       = google_pubsub_subscription.dead_letter.id
}

output "dead_letter_topic_id" {
  description = "Topic receiving messages that failed every delivery attempt."
  value       = google_pubsub_topic.dead_letter.id
}

output "subscription_id" {
  description = "Push subscription delivering to the ingest endpoint."
  value       = google_pubsub_subscription.default.id
}

output "subscription_name" {
  description = "Name of the push subscription, as Cloud Monitoring labels its series (subscription_id)."
  value       = google_pubsub_subscription.default.name
}

output "topic_id" {
  description = "Topic producers publish to (projects/<project>/topics/<name>)."
  value       = google_pubsub_topic.default.id
}
