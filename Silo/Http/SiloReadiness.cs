using FlowOrleans.Grains.Hosting;
using Microsoft.Extensions.Hosting;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// Whether this silo should get traffic: it is Active in the cluster's membership (it joined) and its flow transport
/// listens on every configured address, and the host is not stopping. Asked per probe; nothing is cached, so a silo
/// that membership declares dead or that begins to stop turns unready at once.
/// </summary>
internal sealed class SiloReadiness(
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    SiloTransport transport,
    IHostApplicationLifetime lifetime)
{
    /// <summary>Why the silo is not ready, or null when it is.</summary>
    public string? NotReadyReason()
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return "the silo is stopping";
        }

        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        if (status != SiloStatus.Active)
        {
            return $"the silo is {status} in the cluster's membership, not Active";
        }

        return transport.Started.IsCompletedSuccessfully ? null : "the flow transport does not listen yet";
    }
}
