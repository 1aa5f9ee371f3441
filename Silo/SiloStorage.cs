namespace FlowOrleans.Silo;

/// <summary>Where the silo keeps cluster membership, grain state and reminders.</summary>
internal enum SiloStorage
{
    /// <summary>A single-node cluster on localhost, state in memory: nothing survives the process.</summary>
    Memory,

    /// <summary>Membership, grain state and reminders in PostgreSQL: a multi-silo cluster that survives restarts.</summary>
    PostgreSQL,
}
