using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// Issue 19, item 2: the adversarial handshake matrix (<see cref="HandshakeAttacks"/>), in memory. Every attack ends,
/// on each real side, in its documented error code (docs/reliability.md), or for the acceptor whose last message was
/// broken in a connection that then closes; nothing is left behind (<see cref="HandshakeAttackRun"/>). A manager
/// under the same attacks counts each failed handshake and keeps no connection.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class HandshakeAttackTests(ITestOutputHelper output)
{
    public static TheoryData<string> Families => [.. HandshakeAttacks.Families];

    [Theory]
    [MemberData(nameof(Families))]
    public async Task EachAttackEndsInItsDocumentedCodeWithNothingLeft(string family)
    {
        var clean = await HandshakeAttackRun.RecordCleanAsync();
        var attacks = HandshakeAttacks.Of(family, clean).ToArray();
        var (problems, tally, elapsed) = await RunAllAsync(attacks, manager: null);
        output.WriteLine($"{family}: {attacks.Length} attacks in {elapsed.TotalSeconds:F1} s; {tally}");
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task AManagerUnderAttackCountsEveryFailedHandshakeAndKeepsNoConnection()
    {
        using var failures = new HandshakeFailures();
        var network = new MemoryProtocol();
        var protocols = new ProtocolRegistry();
        protocols.Register(MemoryProtocol.ProtocolName, network);
        await using var manager = new FlowManager(new FlowManagerOptions
        {
            Principal = AttackIdentities.Server,
            AcceptorAuthorizer = PeerAuthorizers.RequireBlessings(AttackIdentities.Server, AttackIdentities.ClientPattern),
            Protocols = protocols,
        });
        var listener = await manager.ListenAsync(MemoryProtocol.ProtocolName, "");
        var target = new ManagerAcceptor(network, listener.Endpoint);
        var clean = await HandshakeAttackRun.RecordCleanAsync(target);
        await ConnectionTestKit.WaitUntilAsync(() => manager.Connections.Count == 0, () => $"{manager.Connections.Count} connections after the clean handshake");
        var before = failures.Of(manager);

        // Every attack the manager can take part in; of the byte-by-byte families every fifth byte.
        var attacks = HandshakeAttacks.Families
            .SelectMany(f => HandshakeAttacks.Of(f, clean).Where((_, i) => !f.StartsWith("flip", StringComparison.Ordinal) && !f.StartsWith("truncate", StringComparison.Ordinal) || i % 5 == 0))
            .Where(a => a.Acceptor.Ending != Ending.Played && a.AcceptorPrincipal == AttackIdentities.Server)
            .ToArray();
        var (problems, tally, elapsed) = await RunAllAsync(attacks, target);
        output.WriteLine($"{attacks.Length} attacks on a manager in {elapsed.TotalSeconds:F1} s; {tally}");
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems));

        var failing = attacks.Count(a => a.Acceptor.Ending is Ending.Fails or Ending.EchoesPeer);
        await ConnectionTestKit.WaitUntilAsync(
            () => failures.Of(manager) - before == failing && manager.Connections.Count == 0,
            () => $"the manager counted {failures.Of(manager) - before} failed handshakes of {failing} and holds {manager.Connections.Count} connections");
    }

    private static async Task<(string[] Problems, string Tally, TimeSpan Elapsed)> RunAllAsync(HandshakeAttack[] attacks, ManagerAcceptor? manager)
    {
        var problems = new ConcurrentQueue<string>();
        var tally = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(attacks.Select(async attack =>
        {
            await gate.WaitAsync();
            try
            {
                var result = await HandshakeAttackRun.RunAsync(attack, manager);
                tally.AddOrUpdate($"dialer {result.Dialer} / acceptor {result.Acceptor}", 1, (_, n) => n + 1);
                foreach (var problem in result.Problems)
                {
                    problems.Enqueue($"{attack}: {problem}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        return ([.. problems], string.Join(", ", tally.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}: {t.Value}")), clock.Elapsed);
    }

    /// <summary>Adds up each manager's <c>flow.handshakes.failed</c>, by its routing ID.</summary>
    private sealed class HandshakeFailures : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _counts = new();

        public HandshakeFailures()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "FlowOrleans.Transport" && instrument.Name == "flow.handshakes.failed")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "flow.manager" && tag.Value is string manager)
                    {
                        _counts.AddOrUpdate(manager, value, (_, sum) => sum + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Of(FlowManager manager) => _counts.GetValueOrDefault(manager.RoutingId.ToString());

        public void Dispose() => _listener.Dispose();
    }
}
