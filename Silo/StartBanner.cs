using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using Orleans.Configuration;

namespace FlowOrleans.Silo;

/// <summary>
/// The lines the silo prints before its endpoints: where its Orleans ports listen, whether cluster connections are
/// mutual TLS, and a warning for each setting that opens it wider than production should (<c>WARNING:</c> first).
/// </summary>
internal static class StartBanner
{
    public static IEnumerable<string> Lines(SiloHostOptions silo, EndpointOptions endpoints, ClusterCertificates? certificates, SiloTransport transport)
    {
        var siloEndpoint = endpoints.SiloListeningEndpoint ?? new System.Net.IPEndPoint(endpoints.AdvertisedIPAddress, endpoints.SiloPort);
        var gateway = endpoints.GatewayListeningEndpoint ?? new System.Net.IPEndPoint(endpoints.AdvertisedIPAddress, endpoints.GatewayPort);
        if (silo.Storage == SiloStorage.Memory)
        {
            yield return "DEVELOPMENT MODE (Silo:Storage=Memory): a single-node cluster, nothing survives the process.";
        }

        var scope = System.Net.IPAddress.IsLoopback(gateway.Address) ? "this machine only" : "the network";
        yield return $"Silo port listens on {siloEndpoint}, gateway on {gateway} ({scope}).";
        var http = new System.Net.IPEndPoint(Http.SiloHttpServer.BindAddress(silo), silo.HttpPort);
        yield return $"Status page http://{http}/, probes /health/live and /health/ready{(silo.Dashboard ? ", Orleans Dashboard /dashboard/" : "")} " +
            $"({(System.Net.IPAddress.IsLoopback(http.Address) ? "this machine only" : "the network")}).";
        yield return certificates is null
            ? "Cluster connections: plaintext, no TLS."
            : $"Cluster connections: mutual TLS as {certificates.Certificate.Subject}, trusting {string.Join("; ", certificates.Authorities.Select(a => a.Subject))}.";
        if (silo.Storage == SiloStorage.PostgreSQL && certificates is null)
        {
            yield return "WARNING: Silo:Tls:AllowPlaintext=true: silo and client connections are neither authenticated nor encrypted; " +
                "anyone who reaches the gateway can use this cluster. Development only.";
        }

        if (transport.AllowsEveryone)
        {
            yield return $"WARNING: {FlowOrleansOptions.TrustSectionName}:AllowEveryone is on: the silo's transport accepts, and dials by default, " +
                "any peer that authenticates, whoever blessed it. Set AcceptPatterns and DialPatterns for production.";
        }

        if (transport.PolicyProfile == PolicyProfile.Development)
        {
            yield return $"Development policy ({FlowOrleansOptions.PolicySectionName}:Profile=Development): clients may ask this silo to dial " +
                "and listen on loopback addresses.";
        }
    }
}
