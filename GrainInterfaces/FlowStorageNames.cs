namespace FlowOrleans.GrainInterfaces;

/// <summary>Grain storage the cluster's flow grains keep their state in; hosts register a provider of this name.</summary>
public static class FlowStorageNames
{
    public const string Default = "FlowOrleans";
}
