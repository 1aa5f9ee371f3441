using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Security;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Settings of a silo's flow transport, bound from the <c>FlowOrleans</c> configuration section.</summary>
public sealed class FlowOrleansOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "FlowOrleans";

    /// <summary>The section the silo's <see cref="Transport.Manager.FlowManagerOptions"/> bind from, with <c>Connection</c> nested in it.</summary>
    public const string TransportSectionName = SectionName + ":Transport";

    /// <summary>The section of <see cref="Trust"/>.</summary>
    public const string TrustSectionName = SectionName + ":Trust";

    /// <summary>The section of <see cref="Policy"/>.</summary>
    public const string PolicySectionName = SectionName + ":Policy";

    /// <summary>Addresses the silo's FlowManager listens on, as <c>protocol/address</c>. Default: <c>tcp/127.0.0.1:0</c>.</summary>
    public IList<string> Listen { get; } = new List<string>();

    /// <summary>The silo's identity and whom its transport trusts (<c>FlowOrleans:Trust</c>).</summary>
    public SiloTrustOptions Trust { get; } = new();

    /// <summary>What clients may ask the silo to dial and listen on (<c>FlowOrleans:Policy</c>).</summary>
    public ClientPolicyOptions Policy { get; } = new();

    /// <summary>
    /// How long an application keeps a listening name (<see cref="IListenNameGrain"/>) without renewing it; its
    /// acceptors renew at a third of this. Default 1 min.
    /// </summary>
    public TimeSpan ListenNameLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The listening name accepted flows are announced under. Default <c>default</c>.</summary>
    public string ListenName { get; set; } = FlowStreamNames.DefaultListenName;

    /// <summary>The stream provider accepted flows are announced on. Default <c>FlowStreams</c>.</summary>
    public string StreamProvider { get; set; } = FlowStreamNames.DefaultProvider;

    /// <summary>
    /// The buffer each inbound message is read into; chunks handed to a reader are one message each, so a message larger
    /// than this (at most one 64 KiB frame) comes whole in its own array. Default 64 KiB, also the maximum.
    /// </summary>
    public int ReadChunkSize { get; set; } = MaxReadChunkSize;

    /// <summary>Chunks read ahead of the reader per flow; this bounds what a slow reader costs the silo. Default 4.</summary>
    public int ReadAheadChunks { get; set; } = 4;

    /// <summary>How long an announced flow waits to be claimed before the silo closes it. Default 30 s.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Channel timeout of flows dialed without one. Default 0, the connection's default.</summary>
    public TimeSpan DefaultChannelTimeout { get; set; }

    /// <summary>How often an active pin grain checks that its owner silo still holds the pin. Default 5 s.</summary>
    public TimeSpan PinCheckPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often each silo checks the pins it holds against their grains' records, and lets go of one recorded on
    /// another silo (a stray: a pin call whose answer was lost to a timeout or a partition, though the silo pinned).
    /// A pin found stray twice in a row is unpinned, so one caught mid-move is not. Default 10 s.
    /// </summary>
    public TimeSpan StrayPinSweepPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Period of the reminder that wakes every pin grain, which is what brings pins back after every silo restarted
    /// (timers die with their silo; reminders live in the reminder table). Default 1 min, Orleans' minimum.
    /// </summary>
    public TimeSpan PinReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether a starting silo asks every pin to check its owner, so after a full restart pins come back as soon as a
    /// silo is up rather than at the next reminder tick. Default true.
    /// </summary>
    public bool EnsurePinsOnStart { get; set; } = true;

    /// <summary>
    /// How long a stopping silo waits for its pins to be held by other silos before it leaves anyway (their new owners
    /// then come from membership, as after a crash). Keep it below the host's shutdown timeout. Default 20 s.
    /// </summary>
    public TimeSpan HandoverTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a flow held for a caller lives without being read, written or renewed; then the silo closes it.
    /// <c>ClusterFlowStream</c> renews at a third of this while open. Default 1 min.
    /// </summary>
    public TimeSpan FlowLeaseTimeout { get; set; } = TimeSpan.FromMinutes(1);

    internal const int MaxReadChunkSize = 64 * 1024;
}
