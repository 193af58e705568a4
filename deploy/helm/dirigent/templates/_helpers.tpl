{{/* Names and labels shared by every object of the chart. */}}

{{- define "dirigent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dirigent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "dirigent.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "dirigent.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dirigent.coordinator.fullname" -}}
{{- printf "%s-coordinator" (include "dirigent.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dirigent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "dirigent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dirigent
{{- end -}}

{{/* Selector labels; "component" is coordinator or participant-<name>. */}}
{{- define "dirigent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dirigent.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod template labels: the selector's plus the descriptive ones (no key twice). */}}
{{- define "dirigent.podLabels" -}}
{{ include "dirigent.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: dirigent
{{- end -}}

{{- define "dirigent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dirigent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read env from: an existing one, or the chart's own. */}}
{{- define "dirigent.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else -}}
{{- include "dirigent.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "dirigent.secretEnabled" -}}
{{- if or .Values.secret.existingSecret (and .Values.secret.create .Values.secret.values) -}}true{{- end -}}
{{- end -}}

{{- define "dirigent.image" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* envFrom of every dirigent container: ConfigMap first, Secret last (a key in both: the Secret's wins). */}}
{{- define "dirigent.envFrom" -}}
- configMapRef:
    name: {{ include "dirigent.fullname" . }}
{{- if include "dirigent.secretEnabled" . }}
- secretRef:
    name: {{ include "dirigent.secretName" . }}
{{- end }}
{{- end -}}

{{/* Volumes every pod has: a writable /tmp (the root file system is read-only) and the optional TLS material. */}}
{{- define "dirigent.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.tls.secretName }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "dirigent.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.tls.secretName }}
- name: tls
  mountPath: {{ .Values.tls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}
