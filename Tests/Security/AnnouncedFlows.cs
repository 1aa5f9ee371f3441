using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Orleans.Streams;

namespace FlowOrleans.Tests.Security;

/// <summary>The attack on accepted flows, for the in-process cluster and the real Silo program alike.</summary>
internal static class AnnouncedFlows
{
    /// <summary>
    /// An outsider subscribes to the announcements of the listening name <paramref name="acceptor"/> holds, as the
    /// issue's attacker did, and sees the flow a peer (<paramref name="peerPrincipal"/>) opens to
    /// <paramref name="siloEndpoint"/>: it can neither claim it nor read, write, renew or close it with a guessed
    /// capability, and the acceptor gets the flow whole. Returns the peer's blessing names as the acceptor saw them.
    /// </summary>
    public static async Task<IReadOnlyList<string>> AssertOnlyTheNamesOwnerOpensAsync(
        Endpoint siloEndpoint, Principal peerPrincipal, FlowAcceptor acceptor, IClusterClient outsiderCluster, FlowClient outsider, CancellationToken ct)
    {
        var seen = new TaskCompletionSource<FlowHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = outsiderCluster.GetStreamProvider(FlowStreamNames.DefaultProvider)
            .GetStream<FlowHandle>(StreamId.Create(FlowStreamNames.AcceptNamespace, acceptor.Name));
        var spy = await stream.SubscribeAsync((handle, _) =>
        {
            seen.TrySetResult(handle);
            return Task.CompletedTask;
        });
        try
        {
            await using var peer = new FlowManager(new FlowManagerOptions { Principal = peerPrincipal });
            await using var outbound = await peer.DialAsync(siloEndpoint, PeerAuthorizers.AllowEveryone(peer.Principal), cancellationToken: ct);
            await outbound.WriteAsync("secret order"u8.ToArray(), ct);
            await outbound.CloseWriteAsync(ct);

            var handle = await seen.Task.WaitAsync(ct);
            var silo = outsider.GetSilo(handle.SiloKey);
            Assert.Null(await silo.ClaimAsync(handle.FlowId, outsider.Owner));
            var guessed = new FlowGrant(handle.FlowId, Capability.NewRandom());
            Assert.Equal(FlowErrorCode.BadArg, (await Assert.ThrowsAsync<FlowException>(() => silo.WriteAsync(guessed, "forged"u8.ToArray(), ct))).Code);
            Assert.Equal(FlowErrorCode.BadArg, (await Assert.ThrowsAsync<FlowException>(async () => await silo.ReadAsync(guessed).GetAsyncEnumerator(ct).MoveNextAsync())).Code);
            Assert.Equal([handle.FlowId], await silo.RenewAsync([guessed]));
            await silo.CloseAsync(guessed);

            await using var accepted = await acceptor.AcceptAsync(ct);
            Assert.Equal(handle.FlowId, accepted.Handle.FlowId);
            using var reader = new StreamReader(accepted);
            Assert.Equal("secret order", await reader.ReadToEndAsync(ct));
            return accepted.PeerBlessingNames;
        }
        finally
        {
            await spy.UnsubscribeAsync();
        }
    }
}
