{{/* Pod-level helpers shared by every workload: security contexts, shutdown, extension points, mounted files. */}}

{{/* Pod security context; OpenShift mode drops the fixed uid/gid/fsGroup (restricted-v2 assigns them per namespace). */}}
{{- define "meditron-cds.podSecurityContext" -}}
{{- $sc := deepCopy .Values.podSecurityContext -}}
{{- if .Values.openshift.enabled -}}
{{- $_ := unset $sc "runAsUser" -}}
{{- $_ = unset $sc "runAsGroup" -}}
{{- $_ = unset $sc "fsGroup" -}}
{{- $_ = unset $sc "fsGroupChangePolicy" -}}
{{- end -}}
{{- toYaml $sc -}}
{{- end -}}

{{- define "meditron-cds.containerSecurityContext" -}}
{{- $sc := deepCopy .Values.containerSecurityContext -}}
{{- if .Values.openshift.enabled -}}
{{- $_ := unset $sc "runAsUser" -}}
{{- $_ = unset $sc "runAsGroup" -}}
{{- end -}}
{{- toYaml $sc -}}
{{- end -}}

{{/*
Container lifecycle: the component's `lifecycle` when set, else a preStop sleep of `preStopSleepSeconds` so the
Service endpoints (and the ingress controller) stop routing to the pod before it gets SIGTERM. Usage: $values
*/}}
{{- define "meditron-cds.lifecycle" -}}
{{- if .lifecycle }}
lifecycle: {{- toYaml .lifecycle | nindent 2 }}
{{- else if gt (int (default 0 .preStopSleepSeconds)) 0 }}
lifecycle:
  preStop:
    exec:
      command: [sleep, {{ .preStopSleepSeconds | int | quote }}]
{{- end }}
{{- end -}}

{{/* The seconds a preStop holds the container before SIGTERM (0 when a custom lifecycle is set: it is opaque). */}}
{{- define "meditron-cds.preStopSeconds" -}}
{{- if .lifecycle }}0{{ else }}{{ default 0 .preStopSleepSeconds | int }}{{ end -}}
{{- end -}}

{{/* Init containers of a component (extension point). Usage: $values */}}
{{- define "meditron-cds.initContainers" -}}
{{- with .initContainers }}
initContainers: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Outbound calls ------------------------------------------------------------------------------------- */}}

{{- define "meditron-cds.caBundleEnabled" -}}
{{- if or .Values.outbound.caBundle.secretName .Values.outbound.caBundle.configMapName }}true{{ end -}}
{{- end -}}

{{/* Where the CA bundle is mounted (NODE_EXTRA_CA_CERTS, and `sslrootcert=` in DATABASE_URL). */}}
{{- define "meditron-cds.caBundlePath" -}}
{{- printf "/etc/meditron/ca/%s" .Values.outbound.caBundle.key -}}
{{- end -}}

{{- define "meditron-cds.caBundleVolume" -}}
{{- with .Values.outbound.caBundle }}
{{- if and .secretName .configMapName }}
{{- fail "outbound.caBundle: set secretName or configMapName, not both" }}
{{- end }}
{{- if .secretName }}
- name: ca-bundle
  secret:
    secretName: {{ .secretName }}
    items:
      - { key: {{ .key }}, path: {{ .key }} }
{{- else if .configMapName }}
- name: ca-bundle
  configMap:
    name: {{ .configMapName }}
    items:
      - { key: {{ .key }}, path: {{ .key }} }
{{- end }}
{{- end }}
{{- end -}}

{{- define "meditron-cds.caBundleMount" -}}
{{- if include "meditron-cds.caBundleEnabled" . }}
- { name: ca-bundle, mountPath: /etc/meditron/ca, readOnly: true }
{{- end }}
{{- end -}}

{{/*
Environment for calls leaving the cluster, as ConfigMap data. NODE_EXTRA_CA_CERTS adds the hospital's CA to Node's
store (fetch, https, Postgres TLS). With a proxy, NODE_USE_ENV_PROXY=1 makes Node 24 honour HTTPS_PROXY/NO_PROXY
for fetch and the http(s) modules; cluster-internal names (every Service this release calls) bypass it.
Usage: (list $ withProxy)
*/}}
{{- define "meditron-cds.outboundConfig" -}}
{{- $root := index . 0 -}}
{{- $withProxy := index . 1 -}}
{{- if include "meditron-cds.caBundleEnabled" $root }}
NODE_EXTRA_CA_CERTS: {{ include "meditron-cds.caBundlePath" $root | quote }}
{{- end }}
{{- with $root.Values.outbound.proxy }}
{{- if and $withProxy .url }}
{{- $internal := list "localhost" "127.0.0.1" "::1" ".svc" (printf ".%s" $root.Values.outbound.clusterDomain) (include "meditron-cds.componentName" (list $root "cds-hooks")) -}}
{{- if $root.Values.modelPool.enabled }}{{ $internal = append $internal (include "meditron-cds.modelPoolName" $root) }}{{ end -}}
{{- with .noProxy }}{{ $internal = append $internal . }}{{ end }}
NODE_USE_ENV_PROXY: "1"
HTTPS_PROXY: {{ .url | quote }}
HTTP_PROXY: {{ .url | quote }}
NO_PROXY: {{ join "," $internal | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The EHR client registry (gateway: JWT issuers and keys; cds-hooks: FHIR allow-list), as a volume and mount. */}}
{{- define "meditron-cds.ehrClientsFile" -}}
{{- printf "/etc/meditron/ehr-clients/%s" .Values.gateway.ehrClients.key -}}
{{- end -}}

{{- define "meditron-cds.ehrClientsVolume" -}}
{{- with .Values.gateway.ehrClients }}
{{- if .existingSecret }}
- name: ehr-clients
  secret:
    secretName: {{ .existingSecret }}
    items:
      - { key: {{ .key }}, path: {{ .key }} }
{{- end }}
{{- end }}
{{- end -}}

{{- define "meditron-cds.ehrClientsMount" -}}
{{- if .Values.gateway.ehrClients.existingSecret }}
- { name: ehr-clients, mountPath: /etc/meditron/ehr-clients, readOnly: true }
{{- end }}
{{- end -}}
