{{/* Names ------------------------------------------------------------------ */}}

{{- define "meditron-cds.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>`, or the release name alone when it already contains the chart name. */}}
{{- define "meditron-cds.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Name of one component's objects, at most 63 characters (a DNS label: Service names are refused above it).
The prefix is shortened, never the component suffix, so two components never collide.
Usage: include "meditron-cds.componentName" (list $ "gateway")
*/}}
{{- define "meditron-cds.componentName" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $room := sub 62 (len $component) | int -}}
{{- printf "%s-%s" (include "meditron-cds.fullname" $root | trunc $room | trimSuffix "-") $component -}}
{{- end -}}

{{- define "meditron-cds.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels ----------------------------------------------------------------- */}}

{{/* Selector labels: name, instance and component only (immutable on Deployments). Usage: (list $ "gateway") */}}
{{- define "meditron-cds.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "meditron-cds.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of a component's objects. Usage: (list $ "gateway") */}}
{{- define "meditron-cds.labels" -}}
{{- $root := index . 0 -}}
{{ include "meditron-cds.selectorLabels" . }}
helm.sh/chart: {{ include "meditron-cds.chart" $root }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: meditron-cds
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Labels of a pod template: no chart version or appVersion, so a chart bump alone never rolls pods (a vLLM replica
takes up to 40 minutes to come back). Usage: (list $ "gateway")
*/}}
{{- define "meditron-cds.podLabels" -}}
{{- $root := index . 0 -}}
{{ include "meditron-cds.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: meditron-cds
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Images ----------------------------------------------------------------- */}}

{{/* `registry/repository:tag` or `@digest`; global.imageRegistry wins. Usage: (list $ .Values.image) */}}
{{- define "meditron-cds.imageRef" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $registry := default $image.registry $root.Values.global.imageRegistry -}}
{{- $tag := default $root.Chart.AppVersion $image.tag | toString -}}
{{- if eq $tag "latest" -}}
{{- fail (printf "image %s: the tag `latest` is not allowed; pin a version" $image.repository) -}}
{{- end -}}
{{- $repo := ternary (printf "%s/%s" $registry $image.repository) $image.repository (ne $registry "") -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $repo $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{- define "meditron-cds.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pods ------------------------------------------------------------------- */}}

{{- define "meditron-cds.serviceAccountName" -}}
{{- $root := index . 0 -}}
{{- $values := index . 1 -}}
{{- if $values.serviceAccount.create -}}
{{- default (include "meditron-cds.componentName" (list $root (index . 2))) $values.serviceAccount.name -}}
{{- else -}}
{{- default "default" $values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Zone and hostname spread of one component. Nodes without a zone label: the zone constraint defaults to
ScheduleAnyway; nodeTaintsPolicy Honor keeps tainted nodes (e.g. GPU nodes) out of the skew. Usage: (list $ "gateway")
*/}}
{{- define "meditron-cds.topologySpreadConstraints" -}}
{{- $root := index . 0 -}}
{{- $spread := $root.Values.topologySpread -}}
{{- $keys := list -}}
{{- if $spread.zone.enabled }}{{ $keys = append $keys (list "topology.kubernetes.io/zone" $spread.zone.whenUnsatisfiable) }}{{ end -}}
{{- if $spread.hostname.enabled }}{{ $keys = append $keys (list "kubernetes.io/hostname" $spread.hostname.whenUnsatisfiable) }}{{ end -}}
{{- if $keys }}
topologySpreadConstraints:
{{- range $keys }}
  - maxSkew: {{ $spread.maxSkew }}
    topologyKey: {{ index . 0 }}
    whenUnsatisfiable: {{ index . 1 }}
    nodeTaintsPolicy: {{ $spread.nodeTaintsPolicy }}
    labelSelector:
      matchLabels:
        {{- include "meditron-cds.selectorLabels" (list $root (index $ 1)) | nindent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Health probes of an app container on its `http` port. */}}
{{- define "meditron-cds.probes" -}}
startupProbe:
  httpGet: { path: /health/live, port: http }
  {{- toYaml .Values.probes.startup | nindent 2 }}
livenessProbe:
  httpGet: { path: /health/live, port: http }
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: { path: /health/ready, port: http }
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- end -}}

{{/* Service URLs and environment --------------------------------------------- */}}

{{/* Node HTTP server limits of an app port (HTTP_*), the same for every app. */}}
{{- define "meditron-cds.httpServerConfig" -}}
HTTP_HEADERS_TIMEOUT_MS: {{ .Values.config.httpServer.headersTimeoutMs | int | quote }}
HTTP_REQUEST_TIMEOUT_MS: {{ .Values.config.httpServer.requestTimeoutMs | int | quote }}
HTTP_KEEP_ALIVE_TIMEOUT_MS: {{ .Values.config.httpServer.keepAliveTimeoutMs | int | quote }}
HTTP_MAX_CONNECTIONS: {{ .Values.config.httpServer.maxConnections | int | quote }}
{{- end -}}


{{- define "meditron-cds.cdsHooksUrl" -}}
{{- printf "http://%s:%d" (include "meditron-cds.componentName" (list . "cds-hooks")) (int .Values.cdsHooks.port) -}}
{{- end -}}

{{/* Service name of the model pool (`<fullname>-vllm` or `<fullname>-tgi`). */}}
{{- define "meditron-cds.modelPoolName" -}}
{{- include "meditron-cds.componentName" (list . .Values.modelPool.engine) -}}
{{- end -}}

{{/* The created model cache PVC (`<fullname>-<engine>-cache`, capped at 63 characters). */}}
{{- define "meditron-cds.modelCacheClaimName" -}}
{{- include "meditron-cds.componentName" (list . (printf "%s-cache" .Values.modelPool.engine)) -}}
{{- end -}}

{{/* Headless Service of the pool: one DNS A record per ready engine pod (`<fullname>-<engine>-engines`). */}}
{{- define "meditron-cds.modelPoolHeadlessName" -}}
{{- include "meditron-cds.componentName" (list . (printf "%s-engines" .Values.modelPool.engine)) -}}
{{- end -}}

{{/*
INFERENCE_BACKENDS: the explicit list, else the chart's pool discovered per pod through its headless Service
(`dns+`: the proxy re-resolves it and keeps one backend per ready engine), else empty (the proxy then refuses to
start and says why).
*/}}
{{- define "meditron-cds.inferenceBackends" -}}
{{- if .Values.inferenceProxy.backends -}}
{{- .Values.inferenceProxy.backends -}}
{{- else if .Values.modelPool.enabled -}}
{{- printf "%s=dns+http://%s:8000/v1" .Values.modelPool.engine (include "meditron-cds.modelPoolHeadlessName" .) -}}
{{- end -}}
{{- end -}}

{{/* The schema owner's DATABASE_URL from its Secret (never a plain value): the migration Job only. */}}
{{- define "meditron-cds.ownerDatabaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required" .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end -}}

{{/*
An app's own runtime login: (list $ "<values key>" "<variable name>"). Each app has its own Secret, a member of its
group role only, so a compromised app login can append to the audit trail but never rewrite it (issue 14).
*/}}
{{- define "meditron-cds.runtimeDatabaseEnv" -}}
{{- $root := index . 0 }}{{ $app := index . 1 }}{{ $name := index . 2 }}
{{- $r := index $root.Values.database.runtime $app }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "database.runtime.%s.existingSecret is required" $app) $r.existingSecret }}
      key: {{ $r.urlKey }}
{{- end -}}

{{/* DATABASE_URL of one app: (list $ "<values key>"). */}}
{{- define "meditron-cds.databaseEnv" -}}
{{- include "meditron-cds.runtimeDatabaseEnv" (list (index . 0) (index . 1) "DATABASE_URL") }}
{{- end -}}

{{/* INTERNAL_TOKEN_SECRET: the gateway signs its per-call token to cds-hooks with it; cds-hooks checks it. */}}
{{- define "meditron-cds.internalTokenEnv" -}}
- name: INTERNAL_TOKEN_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "internalToken.existingSecret is required" .Values.internalToken.existingSecret }}
      key: {{ .Values.internalToken.key }}
{{- end -}}

{{/*
KAFKA_BROKERS for KEDA, which resolves names from its own namespace: a bare host (`kafka:9092`) becomes
`kafka.<release namespace>.svc:9092`; hosts with a dot are kept. inferenceProxy.keda.bootstrapServers overrides.
*/}}
{{- define "meditron-cds.kedaBootstrapServers" -}}
{{- if .Values.inferenceProxy.keda.bootstrapServers -}}
{{- .Values.inferenceProxy.keda.bootstrapServers -}}
{{- else -}}
{{- $out := list -}}
{{- range splitList "," .Values.kafka.brokers | compact -}}
{{- $broker := trim . -}}
{{- $host := regexReplaceAll ":[0-9]+$" $broker "" -}}
{{- $port := trimPrefix $host $broker -}}
{{- if contains "." $host -}}
{{- $out = append $out $broker -}}
{{- else -}}
{{- $out = append $out (printf "%s.%s.svc%s" $host $.Release.Namespace $port) -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}
{{- end -}}

{{/* Kafka SASL credentials from the existing Secret. */}}
{{- define "meditron-cds.kafkaSecretEnv" -}}
{{- if .Values.kafka.sasl.enabled }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required when kafka.sasl.enabled" .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Non-secret Kafka settings, for a component ConfigMap. */}}
{{- define "meditron-cds.kafkaConfig" -}}
KAFKA_BROKERS: {{ required "kafka.brokers is required" .Values.kafka.brokers | quote }}
KAFKA_SSL: {{ .Values.kafka.tls.enabled | quote }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
KAFKA_SSL_CA_FILE: {{ printf "/etc/meditron/kafka-tls/%s" .Values.kafka.tls.caKey | quote }}
{{- end }}
{{- if .Values.kafka.sasl.enabled }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- end -}}

{{/* The Kafka CA bundle (volume and mount), when kafka.tls.existingSecret is set. */}}
{{- define "meditron-cds.kafkaTlsVolume" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
    items:
      - { key: {{ .Values.kafka.tls.caKey }}, path: {{ .Values.kafka.tls.caKey }} }
{{- end }}
{{- end -}}

{{- define "meditron-cds.kafkaTlsMount" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- { name: kafka-tls, mountPath: /etc/meditron/kafka-tls, readOnly: true }
{{- end }}
{{- end -}}

{{/* extraEnv as container env entries: a `NAME: value` map, or a list of EnvVar objects (valueFrom allowed). */}}
{{- define "meditron-cds.extraEnv" -}}
{{- if kindIs "slice" . }}
{{- with . }}
{{ toYaml . }}
{{- end }}
{{- else }}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy helpers ----------------------------------------------------- */}}

{{/*
Egress to cluster DNS. Presets: `kube-dns` (EKS, AKS, GKE, kubeadm), `openshift` (the openshift-dns pods listen on
5353 behind the Service's 53; policies see the pod port), `nodelocal` (NodeLocal DNSCache: the link-local cache IP
and the kube-dns ClusterIP, which policies never match by pod selector, plus the kube-dns pods), `custom`.
*/}}
{{- define "meditron-cds.netpol.dnsEgress" -}}
{{- $dns := .Values.networkPolicy.dns -}}
{{- $peers := list -}}
{{- $ports := $dns.ports -}}
{{- if eq $dns.preset "kube-dns" -}}
{{- $peers = list (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" "kube-system")) "podSelector" (dict "matchLabels" (dict "k8s-app" "kube-dns"))) -}}
{{- $ports = list 53 -}}
{{- else if eq $dns.preset "openshift" -}}
{{- /* Only the DNS daemon set runs in openshift-dns (its node-resolver pods use the host network). */ -}}
{{- $peers = list (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" "openshift-dns"))) -}}
{{- $ports = list 5353 53 -}}
{{- else if eq $dns.preset "nodelocal" -}}
{{- $clusterIP := required "networkPolicy.dns.nodeLocal.clusterDnsIP is required with the nodelocal preset (kubectl -n kube-system get svc kube-dns)" $dns.nodeLocal.clusterDnsIP -}}
{{- $peers = list (dict "ipBlock" (dict "cidr" (printf "%s/32" $dns.nodeLocal.localIP))) (dict "ipBlock" (dict "cidr" (printf "%s/32" $clusterIP))) (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" "kube-system")) "podSelector" (dict "matchLabels" (dict "k8s-app" "kube-dns"))) -}}
{{- $ports = list 53 -}}
{{- else -}}
{{- $peers = list (dict "namespaceSelector" $dns.namespaceSelector "podSelector" $dns.podSelector) -}}
{{- end }}
- to: {{- toYaml $peers | nindent 4 }}
  ports:
    {{- range $ports }}
    - { protocol: UDP, port: {{ . }} }
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end -}}

{{/* Egress to a `{to, ports}` block (Kafka, Postgres). Without `to`, only the ports are restricted. */}}
{{- define "meditron-cds.netpol.peerEgress" -}}
- ports:
    {{- range .ports }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
  {{- with .to }}
  to: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* Egress to a `[{cidr, ports}]` list (FHIR servers, external model servers). */}}
{{- define "meditron-cds.netpol.cidrEgress" -}}
{{- range . }}
- to:
    - ipBlock: { cidr: {{ .cidr }} }
  ports:
    {{- range .ports }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end }}
{{- end -}}

{{/* Egress to the outbound HTTP(S) proxy, when one is set; refused without an address to allow. */}}
{{- define "meditron-cds.netpol.proxyEgress" -}}
{{- with .Values.outbound.proxy }}
{{- if .url }}
{{- if not .egress }}
{{- fail "outbound.proxy.url is set but outbound.proxy.egress is empty: the network policies would block the proxy; list its {cidr, ports}" }}
{{- end }}
{{- include "meditron-cds.netpol.cidrEgress" .egress }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "meditron-cds.netpol.monitoringIngress" -}}
- from:
    - {{ toYaml .root.Values.networkPolicy.monitoring | nindent 6 | trim }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}

{{/* Node.js runtime ------------------------------------------------------------------------------------ */}}

{{/*
A Kubernetes memory quantity in MiB, rounded down: plain bytes, binary (Ki Mi Gi Ti) or decimal (k M G T) suffixes.
Usage: include "meditron-cds.memoryMiB" "384Mi"
*/}}
{{- define "meditron-cds.memoryMiB" -}}
{{- $q := toString . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q -}}
{{- $unit := trimPrefix $number $q -}}
{{- $bytes := dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 -}}
{{- if or (not $number) (not (hasKey $bytes $unit)) -}}
{{- fail (printf "memory quantity %q: expected a number with an optional Ki/Mi/Gi/Ti/k/M/G/T suffix" $q) -}}
{{- end -}}
{{- divf (mulf (float64 $number) (get $bytes $unit)) 1048576.0 | floor | int -}}
{{- end -}}

{{/*
The Node.js runtime of an app container, as ConfigMap data: NODE_OPTIONS (V8's young generation capped at
runtime.maxSemiSpaceMb per semi-space; the old generation capped at runtime.maxOldSpacePercent of the container's
memory limit, so V8 collects harder before the kernel's OOM killer would; then runtime.extraNodeOptions),
LD_PRELOAD of the image's jemalloc when runtime.allocator is jemalloc, and MALLOC_ARENA_MAX (glibc arenas; also
where jemalloc is used, so that an image without it, whose loader skips the preload with a warning, keeps the cap).
The benchmark's deployed mode starts the apps with exactly this (bench/lib/chart-runtime.ts renders it).
Usage: (list $ $values "cdsHooks")
*/}}
{{- define "meditron-cds.nodeRuntimeConfig" -}}
{{- $values := index . 1 -}}
{{- $name := index . 2 -}}
{{- $rt := $values.runtime -}}
{{- $options := list -}}
{{- if gt (int $rt.maxSemiSpaceMb) 0 }}{{ $options = append $options (printf "--max-semi-space-size=%d" (int $rt.maxSemiSpaceMb)) }}{{ end -}}
{{- if gt (int $rt.maxOldSpacePercent) 0 -}}
{{- $limit := dig "limits" "memory" "" ($values.resources | default dict) -}}
{{- if not $limit -}}
{{- fail (printf "%s.runtime.maxOldSpacePercent needs %s.resources.limits.memory (or set it to 0)" $name $name) -}}
{{- end -}}
{{- $oldMiB := div (mul (include "meditron-cds.memoryMiB" $limit | int) (int $rt.maxOldSpacePercent)) 100 -}}
{{- $options = append $options (printf "--max-old-space-size=%d" (int $oldMiB)) -}}
{{- end -}}
{{- with $rt.extraNodeOptions }}{{ $options = append $options . }}{{ end -}}
{{- if $options }}
NODE_OPTIONS: {{ join " " $options | quote }}
{{- end }}
{{- $allocator := $rt.allocator | default "glibc" -}}
{{- if eq $allocator "jemalloc" }}
LD_PRELOAD: {{ include "meditron-cds.jemallocPath" . | quote }}
{{- else if ne $allocator "glibc" -}}
{{- fail (printf "%s.runtime.allocator must be jemalloc or glibc, not %q" $name $allocator) -}}
{{- end }}
{{- if gt (int $rt.mallocArenaMax) 0 }}
MALLOC_ARENA_MAX: {{ $rt.mallocArenaMax | int | quote }}
{{- end }}
{{- end -}}

{{/*
The app container's command: node, the app's V8 flags (runtime.v8Flags; flags Node refuses in NODE_OPTIONS go
here), then the entry point. The benchmark's deployed mode starts each app with the same arguments.
Usage: (list $values "cdsHooks" "dist/apps/cds-hooks/src/main.js")
*/}}
{{- define "meditron-cds.nodeCommand" -}}
{{- $values := index . 0 -}}
{{- $name := index . 1 -}}
{{- $args := list "node" -}}
{{- range $values.runtime.v8Flags | default list -}}
{{- if not (regexMatch "^--[a-z0-9][a-z0-9_-]*(=[A-Za-z0-9._:/,+-]+)?$" .) -}}
{{- fail (printf "%s.runtime.v8Flags: %q is not a V8 flag (--name or --name=value)" $name .) -}}
{{- end -}}
{{- $args = append $args . -}}
{{- end -}}
{{- toJson (append $args (index . 2)) -}}
{{- end -}}

{{/*
Where the image keeps jemalloc (the Dockerfile links Debian's libjemalloc2 there, the same path on every
architecture). A custom image that preloads it must provide the same file.
*/}}
{{- define "meditron-cds.jemallocPath" -}}
/usr/local/lib/libjemalloc.so.2
{{- end -}}
