{{/*
Hallway chart helpers. Every per-service resource ranges over "hallway.serviceNames"
and reads the static facts about a service (ports, stores, callers, consumer groups,
topics) from "hallway.catalog", so there is one template per kind of resource, not five
copies.
*/}}

{{/*
The service catalogue, files/catalogue.yaml: rendered from common/hallway_common/
catalogue.py (and the event contracts) by `python -m hallway_dev.catalogue`. Not values:
ports, consumer groups and topics are a contract with the code. Per service:
  kind: grpc (gRPC + health + metrics ports) | http (gateway: one HTTP port)
  grpcPort, grpcHealthPort, metricsPort | httpPort, metricsPort
  database / opensearch / smtp: what it talks to; migrate: it has a migration Job
  callers: components allowed to call its gRPC port (NetworkPolicy)
  groups: its Kafka consumer groups [{name, topics, deadLetterTopic}] (KEDA, DLQ topics)
  produces: the topics it publishes; "topics" at the top level has each topic's config
*/}}
{{- define "hallway.catalogueFile" -}}
{{- $raw := .Files.Get "files/catalogue.yaml" -}}
{{- if not $raw }}{{ fail "files/catalogue.yaml is missing: run python -m hallway_dev.catalogue" }}{{ end -}}
{{- $raw -}}
{{- end }}

{{/* The services this chart runs, in start order (a JSON list). */}}
{{- define "hallway.serviceNames" -}}
{{- (include "hallway.catalogueFile" . | fromYaml).names | toJson -}}
{{- end }}

{{/* Static facts per service (YAML map name -> facts); see "hallway.catalogueFile". */}}
{{- define "hallway.catalog" -}}
{{- (include "hallway.catalogueFile" . | fromYaml).services | toYaml -}}
{{- end }}

{{/* Every topic Hallway owns with its settings (YAML list of {name, producer, compacted, config}). */}}
{{- define "hallway.topics" -}}
{{- (include "hallway.catalogueFile" . | fromYaml).topics | toYaml -}}
{{- end }}

{{/* The plaintext health port of a gRPC service: <service>.healthPort or the catalogue's. Args: dict svc cat */}}
{{- define "hallway.healthPort" -}}
{{- default .cat.grpcHealthPort .svc.healthPort -}}
{{- end }}

{{- define "hallway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hallway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hallway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <fullname>-<component>, e.g. hallway-profile. Args: dict root name */}}
{{- define "hallway.componentName" -}}
{{- printf "%s-%s" (include "hallway.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels. Args: dict root name */}}
{{- define "hallway.labels" -}}
helm.sh/chart: {{ include "hallway.chart" .root }}
{{ include "hallway.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: hallway
{{- with .root.Values.global.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "hallway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hallway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}
{{- end }}

{{/* Image reference: [registry/]repository[:tag][@digest]. Args: dict root image */}}
{{- define "hallway.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $registry := default $g.registry .image.registry -}}
{{- $tag := default (default .root.Chart.AppVersion $g.tag) .image.tag | toString -}}
{{- $ref := .image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end -}}
{{- if .image.digest }}{{ $ref = printf "%s@%s" $ref .image.digest }}{{ end -}}
{{- $ref -}}
{{- end }}

{{- define "hallway.pullPolicy" -}}
{{- default .root.Values.global.image.pullPolicy .image.pullPolicy -}}
{{- end }}

{{/* Service account name. Args: dict root name svc */}}
{{- define "hallway.serviceAccountName" -}}
{{- if .svc.serviceAccount.create }}
{{- default (include "hallway.componentName" .) .svc.serviceAccount.name }}
{{- else }}
{{- default "default" .svc.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hallway.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ if kindIs "map" . }}{{ .name }}{{ else }}{{ . }}{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the chart-managed Secret holding inline (evaluation-only) credentials. */}}
{{- define "hallway.credentialsSecret" -}}
{{- printf "%s-credentials" (include "hallway.fullname" .) -}}
{{- end }}

{{/*
Inline credentials the chart must store, as a dict key -> value. Only values whose
existingSecret is empty and whose inline value is set end up here.
*/}}
{{- define "hallway.inlineCredentials" -}}
{{- $v := .Values -}}
{{- $out := dict -}}
{{- range $name := list "profile" "feed" "notification" }}
{{- $pg := index $v.postgresql $name }}
{{- if and (not $pg.existingSecret) $pg.url }}
{{- $_ := set $out (printf "%s-database-url" $name) $pg.url }}
{{- end }}
{{- end }}
{{- if and (not $v.opensearch.existingSecret) $v.opensearch.username }}
{{- $_ := set $out "opensearch-username" $v.opensearch.username }}
{{- $_ := set $out "opensearch-password" $v.opensearch.password }}
{{- end }}
{{- if and (not $v.kafka.sasl.existingSecret) $v.kafka.sasl.username }}
{{- $_ := set $out "kafka-sasl-username" $v.kafka.sasl.username }}
{{- $_ := set $out "kafka-sasl-password" $v.kafka.sasl.password }}
{{- end }}
{{- if and (not $v.gateway.jwt.existingSecret) $v.gateway.jwt.secret }}
{{- $_ := set $out "jwt-secret" $v.gateway.jwt.secret }}
{{- end }}
{{- toJson $out -}}
{{- end }}

{{/*
One env entry read from a Secret: the existingSecret when given, else the chart-managed
credentials Secret when an inline value is set, else nothing (the service default).
Args: dict root env existingSecret existingKey inlineSet inlineKey
*/}}
{{- define "hallway.secretEnv" -}}
{{- if .existingSecret }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .existingKey }}
{{- else if .inlineSet }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "hallway.credentialsSecret" .root }}
      key: {{ .inlineKey }}
{{- end }}
{{- end }}

{{- define "hallway.kafkaCreateTopics" -}}
{{- if .Values.kafka.topics.strimzi.enabled }}false{{ else }}{{ .Values.kafka.createTopics }}{{ end -}}
{{- end }}

{{/*
Environment of a service container (and of its migration Job): exactly the HALLWAY_*
variables of docs/conventions.md that this service reads. Args: dict root name svc cat
[serve]. Trust settings (mTLS, identity keys, bind address, health port) only with
serve=true: the migration Jobs are pre-install hooks that run before the certificate
and key Secrets exist, and `migrate` serves nothing.
*/}}
{{- define "hallway.baseEnv" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $cat := .cat -}}
{{- $name := .name -}}
- name: HALLWAY_LOG_LEVEL
  value: {{ default $v.global.logLevel .svc.logLevel | quote }}
{{- if .serve }}
- name: HALLWAY_GRPC_TLS_ENABLED
  value: {{ $v.tls.enabled | quote }}
{{- end }}
{{- if and .serve $v.tls.enabled }}
- name: HALLWAY_GRPC_TLS_CERT_FILE
  value: /etc/hallway/tls/tls.crt
- name: HALLWAY_GRPC_TLS_KEY_FILE
  value: /etc/hallway/tls/tls.key
- name: HALLWAY_GRPC_TLS_CA_FILE
  value: /etc/hallway/tls/ca.crt
{{- end }}
{{- if eq $cat.kind "grpc" }}
- name: HALLWAY_GRPC_PORT
  value: {{ $cat.grpcPort | quote }}
{{- if .serve }}
- name: HALLWAY_GRPC_BIND
  value: "0.0.0.0"
- name: HALLWAY_GRPC_HEALTH_PORT
  value: {{ include "hallway.healthPort" . | quote }}
- name: HALLWAY_IDENTITY_PUBLIC_KEY_FILE
  value: /etc/hallway/identity/public.pem
{{- end }}
- name: HALLWAY_METRICS_PORT
  value: {{ $cat.metricsPort | quote }}
- name: HALLWAY_KAFKA_BOOTSTRAP_SERVERS
  value: {{ $v.kafka.bootstrapServers | quote }}
- name: HALLWAY_KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.securityProtocol | quote }}
- name: HALLWAY_EVENT_SOURCE_BASE
  value: {{ $v.kafka.eventSourceBase | quote }}
{{- if $v.kafka.sasl.mechanism }}
- name: HALLWAY_KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_KAFKA_SASL_USERNAME" "existingSecret" $v.kafka.sasl.existingSecret "existingKey" $v.kafka.sasl.usernameKey "inlineSet" $v.kafka.sasl.username "inlineKey" "kafka-sasl-username") }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_KAFKA_SASL_PASSWORD" "existingSecret" $v.kafka.sasl.existingSecret "existingKey" $v.kafka.sasl.passwordKey "inlineSet" $v.kafka.sasl.username "inlineKey" "kafka-sasl-password") }}
{{- end }}
{{- if $v.kafka.tls.caSecret.name }}
- name: HALLWAY_KAFKA_SSL_CAFILE
  value: /etc/hallway/kafka-ca/{{ $v.kafka.tls.caSecret.key }}
{{- end }}
- name: HALLWAY_KAFKA_CREATE_TOPICS
  value: {{ include "hallway.kafkaCreateTopics" $root | quote }}
- name: HALLWAY_KAFKA_TOPIC_PARTITIONS
  value: {{ $v.kafka.topics.partitions | quote }}
- name: HALLWAY_KAFKA_TOPIC_REPLICATION
  value: {{ $v.kafka.topics.replicas | quote }}
{{- end }}
{{- if $cat.database }}
{{- $pg := index $v.postgresql $name }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_DATABASE_URL" "existingSecret" $pg.existingSecret "existingKey" $pg.existingSecretKey "inlineSet" $pg.url "inlineKey" (printf "%s-database-url" $name)) }}
- name: HALLWAY_DATABASE_POOL_MAX
  value: {{ default $v.postgresql.poolMax $pg.poolMax | quote }}
{{- end }}
{{- if $cat.opensearch }}
- name: HALLWAY_OPENSEARCH_URL
  value: {{ $v.opensearch.url | quote }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_OPENSEARCH_USERNAME" "existingSecret" $v.opensearch.existingSecret "existingKey" $v.opensearch.usernameKey "inlineSet" $v.opensearch.username "inlineKey" "opensearch-username") }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_OPENSEARCH_PASSWORD" "existingSecret" $v.opensearch.existingSecret "existingKey" $v.opensearch.passwordKey "inlineSet" $v.opensearch.username "inlineKey" "opensearch-password") }}
- name: HALLWAY_OPENSEARCH_VERIFY_CERTS
  value: {{ $v.opensearch.verifyCerts | quote }}
- name: HALLWAY_OPENSEARCH_INDEX_PREFIX
  value: {{ $v.opensearch.indexPrefix | quote }}
{{- end }}
{{- if $cat.smtp }}
- name: HALLWAY_SMTP_HOST
  value: {{ $v.smtp.host | quote }}
- name: HALLWAY_SMTP_PORT
  value: {{ $v.smtp.port | quote }}
- name: HALLWAY_SMTP_FROM
  value: {{ $v.smtp.from | quote }}
- name: HALLWAY_PUBLIC_URL
  value: {{ $v.smtp.linkBaseUrl | quote }}
{{- if .serve }}
- name: HALLWAY_UNSUBSCRIBE_KEY_FILE
  value: /etc/hallway/unsubscribe/{{ $v.smtp.unsubscribeKey.existingSecretKey }}
{{- end }}
{{- end }}
{{- if eq $cat.kind "http" }}
- name: HALLWAY_HTTP_PORT
  value: {{ $cat.httpPort | quote }}
- name: HALLWAY_IDENTITY_PRIVATE_KEY_FILE
  value: /etc/hallway/identity/private.pem
- name: HALLWAY_COOKIE_SECURE
  value: {{ $v.gateway.cookieSecure | quote }}
{{- /* explicit, whatever the code's default: the chart never enables the dev sign-in */}}
- name: HALLWAY_DEV_LOGIN
  value: "false"
{{- if or $v.gateway.jwt.existingSecret $v.gateway.jwt.secret }}
{{- include "hallway.secretEnv" (dict "root" $root "env" "HALLWAY_JWT_SECRET" "existingSecret" $v.gateway.jwt.existingSecret "existingKey" $v.gateway.jwt.existingSecretKey "inlineSet" $v.gateway.jwt.secret "inlineKey" "jwt-secret") }}
{{- else }}
- name: HALLWAY_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "hallway.fullname" $root }}-trust
      key: jwt-secret
{{- end }}
- name: HALLWAY_JWT_ISSUER
  value: {{ $v.gateway.jwt.issuer | quote }}
{{- $catalog := include "hallway.catalog" $root | fromYaml }}
{{- range $target := list "profile" "feed" "search" "notification" }}
- name: HALLWAY_{{ upper $target }}_ADDR
  value: {{ printf "%s:%v" (include "hallway.componentName" (dict "root" $root "name" $target)) (index $catalog $target).grpcPort | quote }}
{{- end }}
- name: HALLWAY_GRPC_DEADLINE_SECONDS
  value: {{ $v.gateway.grpcDeadlineSeconds | quote }}
{{- end }}
{{- end }}

{{/*
The service's environment: "hallway.baseEnv" plus extraEnv, where an extraEnv entry
replaces the chart's entry of the same name (no duplicate names in the container spec).
*/}}
{{- define "hallway.env" -}}
{{- $extra := .svc.extraEnv | default list -}}
{{- $names := list -}}
{{- range $extra }}{{ $names = append $names .name }}{{ end -}}
{{- $out := list -}}
{{- range (include "hallway.baseEnv" . | fromYamlArray) }}
{{- if not (has .name $names) }}{{ $out = append $out . }}{{ end }}
{{- end -}}
{{- toYaml (concat $out $extra) -}}
{{- end }}

{{/* Volume mounts shared by a service container and its migration Job. Args: dict root svc cat */}}
{{- define "hallway.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .serve }}
{{- if .root.Values.tls.enabled }}
- name: tls
  mountPath: /etc/hallway/tls
  readOnly: true
{{- end }}
- name: identity
  mountPath: /etc/hallway/identity
  readOnly: true
{{- if .cat.smtp }}
- name: unsubscribe
  mountPath: /etc/hallway/unsubscribe
  readOnly: true
{{- end }}
{{- end }}
{{- if and (eq .cat.kind "grpc") .root.Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/hallway/kafka-ca
  readOnly: true
{{- end }}
{{- with .svc.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "hallway.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.global.tmpSizeLimit }}
{{- if .serve }}
{{- if .root.Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "hallway.tlsSecret" (dict "root" .root "name" .name) }}
    defaultMode: 0400
{{- end }}
{{- /* each side gets only its half of the identity key pair */}}
{{- $key := ternary "private.pem" "public.pem" (eq .cat.kind "http") }}
- name: identity
  secret:
    secretName: {{ .root.Values.identity.existingSecret | default (printf "%s-trust" (include "hallway.fullname" .root)) }}
    defaultMode: 0400
    items:
      - key: {{ $key }}
        path: {{ $key }}
{{- if .cat.smtp }}
{{- $unsub := .root.Values.smtp.unsubscribeKey }}
- name: unsubscribe
  secret:
    secretName: {{ $unsub.existingSecret | default (printf "%s-trust" (include "hallway.fullname" .root)) }}
    defaultMode: 0400
    items:
      - key: {{ $unsub.existingSecretKey }}
        path: {{ $unsub.existingSecretKey }}
{{- end }}
{{- end }}
{{- if and (eq .cat.kind "grpc") .root.Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .root.Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .root.Values.kafka.tls.caSecret.key }}
        path: {{ .root.Values.kafka.tls.caSecret.key }}
{{- end }}
{{- with .svc.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The Secret with a component's mTLS certificate (tls.crt, tls.key, ca.crt). Args: dict root name */}}
{{- define "hallway.tlsSecret" -}}
{{- if eq .root.Values.tls.source "existingSecrets" -}}
{{- required (printf "tls.existingSecrets.%s is required with tls.source=existingSecrets" .name) (index .root.Values.tls.existingSecrets .name) -}}
{{- else -}}
{{- include "hallway.componentName" . -}}-tls
{{- end -}}
{{- end }}

{{/*
Probes: gRPC services are probed through the standard grpc.health.v1 service on their
plaintext health-only port (<service>.healthPort or the catalogue's grpcHealthPort,
HALLWAY_GRPC_HEALTH_PORT; kubelet's
native grpc probe cannot present a client certificate to the mTLS port); the gateway
through /healthz (liveness, startup) and /readyz (readiness). Readiness means "this
process can serve": neither probe looks at another service or a store, so one sick
dependency never empties every Service at once. Timing comes from values.
Args: dict svc cat
*/}}
{{- define "hallway.probes" -}}
{{- range $probe := list "startup" "liveness" "readiness" }}
{{- $p := index $.svc.probes $probe }}
{{- if $p.enabled }}
{{ $probe }}Probe:
  {{- if eq $.cat.kind "grpc" }}
  grpc:
    port: {{ include "hallway.healthPort" $ }}
  {{- else }}
  httpGet:
    path: {{ if eq $probe "readiness" }}/readyz{{ else }}/healthz{{ end }}
    port: http
  {{- end }}
  {{- toYaml (omit $p "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Selector the alert rules and dashboard put on every Hallway series: the scrape job of a
Hallway component (ServiceMonitor: job = Service name) and, when namespaceScoped, the
release namespace. Usage: {{ include "hallway.ruleSelector" . }} -> job=~"hallway-.+",namespace="x"
*/}}
{{- define "hallway.ruleSelector" -}}
{{- $names := include "hallway.serviceNames" . | fromJsonArray -}}
{{- $parts := list (printf "job=~\"%s-(%s)\"" (include "hallway.fullname" .) (join "|" $names)) -}}
{{- if .Values.metrics.prometheusRule.namespaceScoped -}}
{{- $parts = append $parts (printf "namespace=\"%s\"" .Release.Namespace) -}}
{{- end -}}
{{- join "," $parts -}}
{{- end }}

{{/* Kubernetes object name for a Kafka topic (dots are not allowed everywhere). */}}
{{- define "hallway.topicObjectName" -}}
{{- .topic | replace "." "-" | trunc 63 | trimSuffix "-" -}}
{{- end }}
