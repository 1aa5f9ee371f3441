using System.ComponentModel.DataAnnotations;
using OpenTelemetry.Exporter;

namespace FlowOrleans.Silo;

/// <summary>
/// What the silo exports with OpenTelemetry (<c>Silo:Telemetry</c>): traces of the FlowOrleans and Orleans grain-call
/// sources and the FlowOrleans and Orleans meters, to the console, to an OTLP collector, or both. Nothing is set up
/// (and no span is made) unless one exporter is on.
/// </summary>
internal sealed class SiloTelemetryOptions : IValidatableObject
{
    public const string SectionName = SiloHostOptions.SectionName + ":Telemetry";

    /// <summary>Print spans and metrics on standard output. Default false.</summary>
    public bool Console { get; set; }

    /// <summary>The OTLP collector, e.g. <c>http://localhost:4317</c> (gRPC) or <c>http://localhost:4318</c> (HTTP). Default none.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How OTLP is sent: <c>Grpc</c> (default) or <c>HttpProtobuf</c>.</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>The <c>service.name</c> the silo reports under. Default <c>flow-orleans-silo</c>.</summary>
    public string ServiceName { get; set; } = "flow-orleans-silo";

    public bool Enabled => Console || !string.IsNullOrWhiteSpace(OtlpEndpoint);

    /// <summary>The collector's address, when <see cref="OtlpEndpoint"/> is set and valid.</summary>
    public Uri? OtlpUri => Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && OtlpUri is null)
        {
            yield return new ValidationResult(
                $"{SectionName}:OtlpEndpoint '{OtlpEndpoint}' is not an absolute http:// or https:// address (e.g. http://localhost:4317).", [nameof(OtlpEndpoint)]);
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            yield return new ValidationResult($"{SectionName}:ServiceName must not be empty.", [nameof(ServiceName)]);
        }
    }
}
