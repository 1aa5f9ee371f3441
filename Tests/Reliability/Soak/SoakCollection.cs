namespace FlowOrleans.Tests.Reliability.Soak;

/// <summary>The soaks run alone: each samples the whole process's heap, handles and threads, which other tests would move.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak";
}
