using System.ComponentModel.DataAnnotations;
using System.Net;

namespace FlowOrleans.Silo;

/// <summary>Cluster settings of the silo program, bound from the <c>Silo</c> configuration section.</summary>
internal sealed class SiloHostOptions : IValidatableObject
{
    public const string SectionName = "Silo";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to. Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Port of the silo's HTTP server: health endpoints, status page, and the dashboard if on (Silo/Http). Bound like the
    /// gateway: loopback with <see cref="SiloStorage.Memory"/>, every address with <see cref="ListenOnAllAddresses"/>. Default 8080.
    /// </summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>Serve the Orleans Dashboard under <c>/dashboard</c> on <see cref="HttpPort"/>. Default false.</summary>
    public bool Dashboard { get; set; }

    /// <summary>Default <c>dev</c>.</summary>
    public string ClusterId { get; set; } = "dev";

    /// <summary>Default <c>flow-orleans</c>.</summary>
    public string ServiceId { get; set; } = "flow-orleans";

    /// <summary>Default <see cref="SiloStorage.Memory"/>: the embedded single-node cluster.</summary>
    public SiloStorage Storage { get; set; } = SiloStorage.Memory;

    /// <summary>Npgsql connection string, required with <see cref="SiloStorage.PostgreSQL"/>.</summary>
    public string? PostgreSql { get; set; }

    /// <summary>
    /// The address other silos and clients reach this silo on, with <see cref="SiloStorage.PostgreSQL"/> (on Kubernetes,
    /// the pod IP); the silo port and the gateway bind to it. Default 127.0.0.1.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Bind the silo port, the gateway and the HTTP port to every address instead of one. Default false.</summary>
    public bool ListenOnAllAddresses { get; set; }

    /// <summary>Mutual TLS for the silo port and the gateway (<c>Silo:Tls</c>); required with <see cref="SiloStorage.PostgreSQL"/>.</summary>
    public SiloTlsOptions Tls { get; } = new();

    /// <summary>Traces and metrics exported with OpenTelemetry (<c>Silo:Telemetry</c>, <see cref="SiloTelemetry"/>); off by default.</summary>
    public SiloTelemetryOptions Telemetry { get; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Each message names the setting as configuration writes it, its value and what is expected.
        foreach (var (name, port) in new[] { (nameof(SiloPort), SiloPort), (nameof(GatewayPort), GatewayPort) })
        {
            if (port is < 1 or > 65535)
            {
                yield return new ValidationResult($"{SectionName}:{name} '{port}' is out of range; expected a port from 1 to 65535.", [name]);
            }
        }

        if (SiloPort == GatewayPort)
        {
            yield return new ValidationResult($"{SectionName}:GatewayPort '{GatewayPort}' is Silo:SiloPort too; expected two different ports.", [nameof(GatewayPort)]);
        }

        foreach (var (name, id) in new[] { (nameof(ClusterId), ClusterId), (nameof(ServiceId), ServiceId) })
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                yield return new ValidationResult($"{SectionName}:{name} '{id}' is empty; expected a name.", [name]);
            }
        }

        if (Storage == SiloStorage.PostgreSQL && string.IsNullOrWhiteSpace(PostgreSql))
        {
            yield return new ValidationResult("Silo:PostgreSql (a connection string) is required when Silo:Storage is PostgreSQL.", [nameof(PostgreSql)]);
        }

        if (Storage == SiloStorage.PostgreSQL && !Tls.IsConfigured && !Tls.AllowPlaintext)
        {
            yield return new ValidationResult(
                "Silo:Storage=PostgreSQL needs mutual TLS: set Silo:Tls:CertificatePath (with Silo:Tls:PrivateKeyPath, or Silo:Tls:Password for a PFX) " +
                "and Silo:Tls:CaCertificatePath, or Silo:Tls:AllowPlaintext=true to run without it (development only).",
                [nameof(Tls)]);
        }

        if (Tls.IsConfigured && string.IsNullOrWhiteSpace(Tls.CaCertificatePath))
        {
            yield return new ValidationResult("Silo:Tls:CaCertificatePath (the authorities remote certificates must chain to) is required with Silo:Tls:CertificatePath.", [nameof(Tls)]);
        }

        if (!IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return new ValidationResult($"Silo:AdvertisedAddress '{AdvertisedAddress}' is not an IP address; expected the IP other silos and clients reach this one on.", [nameof(AdvertisedAddress)]);
        }
    }
}
