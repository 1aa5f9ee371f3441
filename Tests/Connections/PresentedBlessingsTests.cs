using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// What each side of a handshake presents and what the other then sees: <see cref="IPeerAuthorizer.BlessingsForPeer"/>
/// and public-key-only (nameless) blessings, after Vanadium's conn handshake.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PresentedBlessingsTests
{
    [Fact]
    public async Task BlessingsForPeerGetsTheAcceptorsAcceptedNamesAndThePeerSeesExactlyWhatItReturned()
    {
        // Vanadium: the dialer authorizes the acceptor first, then asks BlessingsForPeer with the acceptor's names what
        // to reveal; the acceptor sees those blessings and discharges as the flow's remote ones.
        var dialer = NewPrincipal("dialer");
        var acceptor = NewPrincipal("acceptor");
        dialer.Roots.AddRootsOf(acceptor.DefaultBlessings);
        var discharger = Principal.CreateInMemory();
        var caveat = ThirdPartyCaveat.Create(discharger.PublicKey, "/discharger", ThirdPartyRequirements.None, Caveat.Unconstrained);
        var revealed = dialer.BlessSelf("for-the-acceptor", caveat);
        var discharges = Discharges.Create(discharger.MintDischarge(caveat, Caveat.Unconstrained));
        var dialerAuthorizer = new RecordingAuthorizer(PeerAuthorizers.AllowEveryone(dialer), (revealed, discharges));
        var acceptorAuthorizer = new RecordingAuthorizer(PeerAuthorizers.AllowEveryone(acceptor), null);

        await using var peers = await ConnectAsync(
            dialerAuthorizer: dialerAuthorizer, acceptorAuthorizer: acceptorAuthorizer, dialerPrincipal: dialer, acceptorPrincipal: acceptor);

        // (The dialer's discharge refresh asks again later, with the same names.)
        Assert.All(dialerAuthorizer.Snapshot(), asked => Assert.Equal(["acceptor"], asked));
        Assert.Empty(Assert.Single(acceptorAuthorizer.Snapshot())); // the acceptor speaks first: it knows no names yet
        Assert.Equal(revealed, peers.Acceptor.RemoteBlessings);
        Assert.Equal(discharges.ToBytes(), peers.Acceptor.RemoteDischarges.ToBytes());
        Assert.Equal(revealed, peers.Dialer.LocalBlessings);
        Assert.Equal(discharges.ToBytes(), peers.Dialer.LocalDischarges.ToBytes());
        Assert.Equal(acceptor.DefaultBlessings, peers.Dialer.RemoteBlessings);

        var flow = peers.Dialer.OpenFlow();
        await flow.WriteMessageAndCloseAsync([new byte[] { 1 }]);
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal(revealed, accepted.RemoteBlessings);
        Assert.Equal(discharges.ToBytes(), accepted.RemoteDischarges.ToBytes());
    }

    [Fact]
    public async Task ADialerPresentingNamelessBlessingsShowsItsKeyAloneAndIsAcceptedByAnAuthorizerThatAcceptsAnyKey()
    {
        // Vanadium: a conn with no flow handler (nobody can dial back) sends NamelessBlessing(its public key).
        var dialer = NewPrincipal("dialer");
        var dialerAuthorizer = new RecordingAuthorizer(PeerAuthorizers.AllowEveryone(dialer), null);
        await using var peers = await ConnectAsync(dialerAuthorizer: dialerAuthorizer, dialerPrincipal: dialer, dialerPresentsNameless: true);

        Assert.True(peers.Acceptor.RemoteBlessings.IsNameless);
        Assert.Equal(dialer.PublicKey, peers.Acceptor.RemoteBlessings.PublicKey);
        Assert.Empty(peers.Acceptor.RemoteBlessings.Names);
        Assert.Empty(peers.Acceptor.RemoteBlessingNames);
        Assert.Empty(peers.Acceptor.RemoteDischarges);
        Assert.True(peers.Dialer.LocalBlessings.IsNameless);
        Assert.Empty(dialerAuthorizer.Snapshot()); // the nameless blessings replace the authorizer's choice

        var flow = peers.Dialer.OpenFlow();
        await flow.WriteMessageAndCloseAsync([new byte[] { 9 }]);
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        Assert.Equal(new byte[] { 9 }, await ReadToEndAsync(accepted));
        Assert.True(accepted.RemoteBlessings.IsNameless);
    }

    [Fact]
    public async Task AnAcceptorThatRequiresBlessingNamesRefusesANamelessDialer()
    {
        var acceptor = NewPrincipal("acceptor");
        var e = await Assert.ThrowsAsync<FlowException>(() => ConnectAsync(
            acceptorPrincipal: acceptor, acceptorAuthorizer: PeerAuthorizers.RequireBlessings(acceptor, "dialer"), dialerPresentsNameless: true));
        Assert.Equal(FlowErrorCode.NotTrusted, e.Code);
    }

    [Fact]
    public async Task APrincipalWithNoBlessingsPresentsItsKeyAloneInsteadOfFailingTheHandshake()
    {
        // Vanadium's acceptor (and Conn.Dial) fall back to NamelessBlessing when the principal's blessings are empty.
        var unblessedDialer = Principal.CreateInMemory();
        var unblessedAcceptor = Principal.CreateInMemory();
        await using var peers = await ConnectAsync(dialerPrincipal: unblessedDialer, acceptorPrincipal: unblessedAcceptor);
        Assert.Equal(Blessings.Nameless(unblessedDialer.PublicKey), peers.Acceptor.RemoteBlessings);
        Assert.Equal(Blessings.Nameless(unblessedAcceptor.PublicKey), peers.Dialer.RemoteBlessings);
    }

    /// <summary>Delegates judging; records every <see cref="BlessingsForPeer"/> call and answers it with a fixed choice, if given.</summary>
    private sealed class RecordingAuthorizer(IPeerAuthorizer inner, (Blessings, Discharges)? presents) : IPeerAuthorizer
    {
        private readonly List<IReadOnlyList<string>> _asked = [];

        public IReadOnlyList<string>[] Snapshot()
        {
            lock (_asked)
            {
                return [.. _asked];
            }
        }

        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken) =>
            inner.AuthorizePeerAsync(context, cancellationToken);

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames)
        {
            lock (_asked)
            {
                _asked.Add([.. peerBlessingNames]);
            }

            return presents ?? inner.BlessingsForPeer(peerBlessingNames);
        }
    }
}
